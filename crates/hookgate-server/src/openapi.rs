//! The admin API's OpenAPI 3.1 document, generated from the handlers' annotations (utoipa),
//! never written by hand: `GET /api/openapi.json`.

use axum::Json;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{admin, deliveries};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hookgate admin API",
        description = "Events hookgate stored, their deliveries and attempts, replay and retry, destinations. With `server.admin_token` set, send `Authorization: Bearer <token>`; without one, only loopback clients are answered."
    ),
    paths(
        admin::list_events,
        admin::show_event,
        admin::stream,
        deliveries::replay,
        deliveries::list,
        deliveries::show,
        deliveries::retry,
        deliveries::retry_dead,
        deliveries::destinations,
        deliveries::sources,
        deliveries::enable,
        deliveries::disable,
    ),
    modifiers(&BearerToken),
    security(("admin_token" = []), ())
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    Json(doc)
}
