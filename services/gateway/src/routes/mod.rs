//! The gateway's HTTP surface: each resource's `router()`, merged here into
//! one router whose OpenAPI document is generated from the same routes, so
//! `/openapi.json` cannot drift from what is served.

mod agent;
mod agent_stats;
pub mod convai;
pub mod conversations;
mod dashboard;
mod exports;
mod health;
mod history;
mod live_events;
mod me;
pub(crate) mod money;
mod openapi;
mod ops;
mod transcription;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::router())
        .merge(convai::router())
        .merge(dashboard::router())
        .merge(me::router())
        .merge(history::router())
        .merge(conversations::router())
        .merge(agent_stats::router())
        .merge(money::router())
        .merge(exports::router())
        .merge(agent::router())
        .merge(transcription::router())
        .merge(webhooks::router())
        .merge(live_events::router())
        .merge(openapi::router())
        .merge(ops::router())
        .split_for_parts();
    router
        .layer(axum::Extension(openapi::Document::new(&api)))
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::rate::limit,
        ))
        .with_state(state)
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
