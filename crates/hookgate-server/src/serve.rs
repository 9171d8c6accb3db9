//! The accept loop. axum's own `serve` has no header-read timeout, so connections are driven by
//! hyper directly: a client that dribbles its request head is cut off after
//! `server.header_read_timeout`, and the body timeout is enforced by ingest.
//!
//! Shutdown: when the token is cancelled the listener is closed at once, in-flight requests get
//! `server.shutdown_timeout` to finish (their commits included), then `serve` returns.

use std::{io, net::SocketAddr};

use axum::{extract::ConnectInfo, http::Request, Router};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::App;

/// Serves every route of `app` on `listener` until `shutdown` is cancelled.
pub async fn serve(app: App, listener: TcpListener, shutdown: CancellationToken) -> io::Result<()> {
    serve_surface(app, listener, crate::Surface::All, shutdown).await
}

/// Serves one surface of `app` (see [`crate::Surface`]) on `listener`.
pub async fn serve_surface(
    app: App,
    listener: TcpListener,
    surface: crate::Surface,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let limits = app.config().server.clone();
    let router: Router = crate::router_for(app, surface);
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);

    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Webhook responses are small; Nagle would hold them back waiting for more.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(req)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections finished"),
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(timeout = ?limits.shutdown_timeout, "connections still open at shutdown timeout; closing them");
        }
    }
    Ok(())
}
