//! The seed's agent routes: the text chat (`POST /api/agent`) and the
//! client-side mode's signed URL (`GET /api/agent/signed-url`).

mod chat;
mod signed_url;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chat::chat))
        .routes(routes!(signed_url::signed_url))
}
