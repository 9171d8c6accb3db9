//! `hookgate serve`: the composition root. Config → store → dispatcher and server, plus
//! signals and retention.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use hookgate_core::{config::CATCH_ALL, Config, StorageUrl};
use hookgate_server::App;
use hookgate_store::{SqliteOptions, SqliteStore, Store};
use tokio_util::sync::CancellationToken;

use crate::cli::{LogFormat, ServeArgs};

const DEFAULT_CONFIG: &str = "hookgate.toml";

/// The file the config comes from, if any (the embedded default has none to reload).
fn config_file(path: Option<&Path>) -> Option<PathBuf> {
    match path {
        Some(p) => Some(p.to_path_buf()),
        None => Path::new(DEFAULT_CONFIG)
            .exists()
            .then(|| PathBuf::from(DEFAULT_CONFIG)),
    }
}

/// How often the config file's modification time is checked.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Reloads the config on SIGHUP and whenever its file changes. A config that does not load
/// or validate is refused, with the reason logged, and the running one keeps serving.
/// `server.listen` and `[storage]` need a restart: a change to them is logged and ignored.
async fn reload_forever(
    path: PathBuf,
    app: App,
    dispatcher: hookgate_dispatch::Dispatcher,
    shutdown: CancellationToken,
) {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut seen = modified(&path);
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; reloading on file changes only");
            None
        }
    };
    loop {
        let why = tokio::select! {
            () = shutdown.cancelled() => return,
            Some(()) = async { match &mut hangup { Some(s) => s.recv().await, None => None } } => "SIGHUP",
            () = tokio::time::sleep(WATCH_EVERY) => {
                let now = modified(&path);
                if now == seen {
                    continue;
                }
                seen = now;
                "file changed"
            }
        };
        let current = app.config();
        match load_config(Some(&path)) {
            Err(e) => {
                tracing::error!(reason = %format!("{e:#}"), trigger = why, "config reload refused; still serving the previous configuration");
            }
            Ok((mut next, _)) => {
                if next.server.listen != current.server.listen {
                    tracing::warn!("server.listen changed: takes effect after a restart");
                    next.server.listen = current.server.listen;
                }
                if next.server.admin_listen != current.server.admin_listen {
                    tracing::warn!("server.admin_listen changed: takes effect after a restart");
                    next.server.admin_listen = current.server.admin_listen;
                }
                if next.storage.url != current.storage.url {
                    tracing::warn!("storage.url changed: takes effect after a restart");
                    next.storage.url = current.storage.url.clone();
                }
                if let Err(e) = dispatcher.reload(&next.router) {
                    tracing::error!(error = %e, "config reload refused: cannot set up the destinations");
                    continue;
                }
                app.replace_config(Arc::new(next));
                tracing::info!(trigger = why, "configuration reloaded");
            }
        }
    }
}

/// Loads `--config FILE`, else `./hookgate.toml` if present, else the embedded default. Returns
/// the config and a description of where it came from.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<(Config, String)> {
    let path: Option<PathBuf> = match path {
        Some(p) => Some(p.to_path_buf()),
        None => Path::new(DEFAULT_CONFIG)
            .exists()
            .then(|| PathBuf::from(DEFAULT_CONFIG)),
    };
    let Some(path) = path else {
        return Ok((
            Config::embedded_default(),
            "embedded default configuration".to_owned(),
        ));
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let config = Config::parse(&text, &|name| std::env::var(name).ok())
        .with_context(|| format!("{} is not valid", path.display()))?;
    Ok((config, path.display().to_string()))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format);
    let (mut config, origin) = load_config(args.config.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let path = config_file(args.config.config.as_deref());
    runtime.block_on(serve(Arc::new(config), &origin, path))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    config: Arc<Config>,
    origin: &str,
    config_path: Option<PathBuf>,
) -> anyhow::Result<()> {
    let StorageUrl::Sqlite(path) = &config.storage.url;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(
        path,
        &SqliteOptions {
            max_size: config.storage.max_size,
        },
    )?);
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let admin_listener = match config.server.admin_listen {
        None => None,
        Some(admin) => Some(
            tokio::net::TcpListener::bind(admin)
                .await
                .with_context(|| format!("cannot listen on {admin} (server.admin_listen)"))?,
        ),
    };
    print_banner(&config, origin, addr, path);
    if let Some(admin) = &admin_listener {
        println!(
            "  admin:   http://{}/ui, /api, /metrics",
            admin.local_addr()?
        );
    }

    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    tokio::spawn(prune_forever(
        Arc::clone(&store),
        config.storage.retention,
        shutdown.clone(),
    ));

    // Before the dispatcher: its lanes register their metric handles when they are built.
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&[
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            30.0, 60.0,
        ])
        .context("metrics buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let dispatcher = hookgate_dispatch::Dispatcher::new(Arc::clone(&store), &config.router)
        .context("cannot set up the destinations")?;
    let dispatching = tokio::spawn(
        dispatcher
            .clone()
            .run(shutdown.clone(), config.server.shutdown_timeout),
    );

    let upkeep = metrics.clone();
    // Histograms keep raw samples until upkeep folds them into buckets.
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    let render: hookgate_server::MetricsRender = Arc::new(move || metrics.render());

    let probe = dispatcher.clone();
    let health: hookgate_server::HealthProbe = Arc::new(move || {
        probe
            .health()
            .into_iter()
            .map(|h| hookgate_server::DestinationHealth {
                destination: h.destination,
                circuit: match h.circuit {
                    hookgate_dispatch::CircuitState::Closed => "closed",
                    hookgate_dispatch::CircuitState::Open => "open",
                    hookgate_dispatch::CircuitState::HalfOpen => "half-open",
                },
                in_flight: h.in_flight,
                consecutive_failures: h.consecutive_failures,
                delivered: h.delivered,
                failed: h.failed,
                last_error: h.last_error,
            })
            .collect()
    });
    let app = App::with_extras(
        Arc::clone(&config),
        Arc::clone(&store),
        hookgate_server::Extras {
            metrics: Some(render),
            health: Some(health),
        },
    );
    if let Some(path) = config_path {
        tokio::spawn(reload_forever(
            path,
            app.clone(),
            dispatcher,
            shutdown.clone(),
        ));
    }

    match admin_listener {
        None => hookgate_server::serve(app, listener, shutdown).await?,
        Some(admin) => {
            let ingest = hookgate_server::serve_surface(
                app.clone(),
                listener,
                hookgate_server::Surface::Ingest,
                shutdown.clone(),
            );
            let operators = hookgate_server::serve_surface(
                app,
                admin,
                hookgate_server::Surface::Admin,
                shutdown,
            );
            tokio::try_join!(ingest, operators)?;
        }
    }
    // Sends in flight get the same grace as requests; their reports are written before the
    // store closes.
    if let Err(e) = dispatching.await {
        tracing::error!(error = %e, "the dispatcher stopped abnormally");
    }
    // Every request has been answered or cut off; let the writer finish what is queued.
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn print_banner(config: &Config, origin: &str, addr: std::net::SocketAddr, db: &Path) {
    println!(
        "hookgate {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    println!("  config:  {origin}");
    println!("  storage: sqlite://{}", db.display());
    for source in &config.sources {
        if source.name == CATCH_ALL {
            println!(
                "  source:  POST http://{addr}/in/{{any name}}  (provider {}, catch-all)",
                source.provider
            );
        } else {
            println!(
                "  source:  POST http://{addr}/in/{}  (provider {})",
                source.name, source.provider
            );
        }
    }
    if config.source("demo").is_some() {
        println!("try it:");
        println!("  curl -X POST http://{addr}/in/demo -H 'content-type: application/json' -d '{{\"hello\":\"world\"}}'");
        println!("  hookgate events list --server http://{addr}");
    }
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: no new connections; finishing requests in flight");
    shutdown.cancel();
}

/// Deletes events past retention once an hour (and once at start).
async fn prune_forever(store: Arc<dyn Store>, retention: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let cutoff =
            now_ms.saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        match store.prune(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned events past retention"),
            Err(e) => tracing::warn!(error = %e, "pruning failed; will retry in an hour"),
        }
    }
}
