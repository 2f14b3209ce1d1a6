//! `GET /healthz`: the process is up and serving.

use axum::Json;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// The process is alive (it says nothing of NATS or MongoDB; see `/readyz`).
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()),
    responses((status = 200, description = "Alive", body = Object, example = json!({"status": "ok"}))))]
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
