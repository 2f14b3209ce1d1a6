//! `GET /openapi.json`: the OpenAPI 3.1 document of every route, generated
//! from the handlers' annotations as the router is built.

use axum::Extension;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use bytes::Bytes;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Problem;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parlor gateway",
        description = "Parlor's HTTP API: the seed app's routes, ElevenLabs-compatible history, dashboard reads, finance and admin. Errors are application/problem+json."
    ),
    components(schemas(Problem)),
    modifiers(&Credentials),
    security(("bearer" = []), ("xi_api_key" = []))
)]
pub struct ApiDoc;

/// The ways a caller may present its token.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "xi_api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("xi-api-key"))),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
async fn openapi_json(Extension(document): Extension<Document>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], document.0)
}

/// The document, serialised once when the router is built.
#[derive(Clone)]
pub struct Document(Bytes);

impl Document {
    pub fn new(api: &utoipa::openapi::OpenApi) -> Self {
        Self(Bytes::from(api.to_pretty_json().unwrap_or_default()))
    }
}
