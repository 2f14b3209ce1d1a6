//! The ElevenLabs-compatible conversation surface: the live WebSocket and
//! the signed URLs that open it.

mod conversation;
pub(crate) mod signed_url;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(conversation::conversation))
        .routes(routes!(signed_url::get_signed_url))
        // ElevenLabs' deprecated spelling, still served by its API.
        .routes(routes!(signed_url::get_signed_url_deprecated))
}
