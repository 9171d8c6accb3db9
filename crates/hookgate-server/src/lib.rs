//! hookgate's HTTP surface: ingest (`/in/{source}`), the admin API (`/api`), and health checks.
//!
//! The server takes its world as arguments ([`serve`] gets an [`App`], a bound listener and a
//! shutdown token), so tests run it on port 0. It knows the store only as `Arc<dyn Store>`; it
//! never names a backend, never talks to delivery workers directly, and never answers 2xx to a
//! webhook before the store has said the event is durable.
//!
//! Layout: `ingest` (the webhook pipeline), `admin` (the `/api` read side), `error` (the JSON error
//! type), `serve` (the accept loop with its timeouts and graceful shutdown).
#![forbid(unsafe_code)]

pub mod admin;
pub mod deliveries;
mod error;
pub mod ingest;
mod openapi;
mod serve;
mod ui;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::StatusCode,
    middleware,
    routing::{any, get, post},
    Json, Router,
};
pub use error::ApiError;
use hookgate_core::Config;
use hookgate_store::Store;
pub use serve::{serve, serve_surface};

/// Events a slow `/api/stream` watcher may fall behind before it is told it lagged.
const LIVE_BACKLOG: usize = 1024;

/// What every handler shares: the configuration and the store.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

/// Renders the Prometheus text exposition of every metric recorded in this process; the
/// binary installs the recorder and passes its renderer in, so this crate only knows the
/// `metrics` facade.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// A destination's live health, as the delivery side reports it (circuit state and counts
/// are in its memory, not the store). The binary wires it in; this crate never calls the
/// dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationHealth {
    pub destination: String,
    /// `closed`, `open` or `half-open`.
    pub circuit: &'static str,
    pub in_flight: usize,
    pub consecutive_failures: u32,
    /// Attempts since this process started.
    pub delivered: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

pub type HealthProbe = Arc<dyn Fn() -> Vec<DestinationHealth> + Send + Sync>;

/// What the binary may plug into the server beyond config and store.
#[derive(Default)]
pub struct Extras {
    pub metrics: Option<MetricsRender>,
    pub health: Option<HealthProbe>,
}

impl std::fmt::Debug for Extras {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extras")
            .field("metrics", &self.metrics.is_some())
            .field("health", &self.health.is_some())
            .finish()
    }
}

struct Inner {
    /// Swapped whole by a reload; each request takes one snapshot and keeps it, so a reload
    /// never changes the rules under a request in flight.
    config: std::sync::RwLock<Arc<Config>>,
    store: Arc<dyn Store>,
    metrics: Option<MetricsRender>,
    health: Option<HealthProbe>,
    /// Events as they are stored, for `/api/stream` watchers (the CLI's `events tail`).
    live: tokio::sync::broadcast::Sender<admin::EventListItem>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("sources", &self.config().sources.len())
            .finish_non_exhaustive()
    }
}

impl App {
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>) -> Self {
        Self::with_extras(config, store, Extras::default())
    }

    /// With `/metrics` served from `extras.metrics` and destination health from
    /// `extras.health`.
    #[must_use]
    pub fn with_extras(config: Arc<Config>, store: Arc<dyn Store>, extras: Extras) -> Self {
        Self {
            inner: Arc::new(Inner {
                config: std::sync::RwLock::new(config),
                store,
                metrics: extras.metrics,
                health: extras.health,
                live: tokio::sync::broadcast::channel(LIVE_BACKLOG).0,
            }),
        }
    }

    pub(crate) fn health(&self) -> Vec<DestinationHealth> {
        self.inner
            .health
            .as_ref()
            .map(|probe| probe())
            .unwrap_or_default()
    }

    #[must_use]
    pub fn config(&self) -> Arc<Config> {
        // A poisoned lock still holds a whole, valid config (writers only swap an Arc).
        let guard = self
            .inner
            .config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&guard)
    }

    /// Serves `config` from now on (a reload). Requests already running keep the one they
    /// started with.
    pub fn replace_config(&self, config: Arc<Config>) {
        let mut guard = self
            .inner
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = config;
    }

    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub(crate) fn has_watchers(&self) -> bool {
        self.inner.live.receiver_count() > 0
    }

    pub(crate) fn publish(&self, item: admin::EventListItem) {
        // No watcher left is not an error: the event is stored either way.
        let _ = self.inner.live.send(item);
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<admin::EventListItem> {
        self.inner.live.subscribe()
    }
}

/// All routes. Unknown paths answer the JSON error body too.
/// Which routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Everything on one address.
    All,
    /// `/in`, `/healthz`, `/readyz`: what senders reach.
    Ingest,
    /// `/api`, `/ui`, `/metrics`, `/healthz`, `/readyz`: what operators reach.
    Admin,
}

pub fn router(app: App) -> Router {
    router_for(app, Surface::All)
}

/// The routes of one surface. Unknown paths answer the JSON error body too.
pub fn router_for(app: App, surface: Surface) -> Router {
    let api = Router::new()
        .route("/events", get(admin::list_events))
        .route("/events/{id}", get(admin::show_event))
        .route("/stream", get(admin::stream))
        .route("/openapi.json", get(openapi::document))
        .route("/events/{id}/replay", post(deliveries::replay))
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/retry", post(deliveries::retry_dead))
        .route("/deliveries/{id}", get(deliveries::show))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/destinations", get(deliveries::destinations))
        .route("/sources", get(deliveries::sources))
        .route("/destinations/{name}/enable", post(deliveries::enable))
        .route("/destinations/{name}/disable", post(deliveries::disable))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            admin::require_access,
        ));
    let ui = Router::new()
        .route("/", get(ui::events))
        .route("/events/{id}", get(ui::event))
        .route("/destinations", get(ui::destinations))
        .route("/sources", get(ui::sources))
        .route("/assets/app.css", get(ui::css))
        .route("/assets/app.js", get(ui::js))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            admin::require_ui_access,
        ))
        // The login page itself is open: it is how a browser gets the token's cookie.
        .route("/login", get(ui::login_page).post(ui::login));
    let mut routes = Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz));
    if surface != Surface::Admin {
        routes = routes
            .route("/in/{source}", any(ingest::handler))
            .route("/in/{source}/{token}", any(ingest::handler_with_path_token));
    }
    if surface != Surface::Ingest {
        routes = routes.nest("/ui", ui).nest("/api", api).route(
            "/metrics",
            get(metrics_text).route_layer(middleware::from_fn_with_state(
                app.clone(),
                admin::require_access,
            )),
        );
    }
    routes
        .fallback(|| async {
            ApiError::not_found(
                "not_found",
                "no such endpoint; webhooks go to POST /in/{source}",
            )
        })
        .with_state(app)
}

/// `GET /metrics`: Prometheus text, behind the admin API's access rule (names of sources
/// and destinations are operators' business).
async fn metrics_text(State(app): State<App>) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let render = app.inner.metrics.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "metrics_disabled",
            "this server was started without metrics",
        )
    })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(),
    )
        .into_response())
}

async fn readyz(State(app): State<App>) -> Result<Json<serde_json::Value>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), app.store().ready()).await {
        Ok(Ok(())) => Ok(Json(serde_json::json!({"status": "ready"}))),
        Ok(Err(e)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("storage: {e}"),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "storage did not answer within 2 s",
        )),
    }
}
