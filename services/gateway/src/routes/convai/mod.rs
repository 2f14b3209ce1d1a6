//! The ElevenLabs-compatible conversation surface: the live WebSocket and
//! the signed URLs that open it.

mod conversation;
mod signed_url;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::auth::Authenticator;
use crate::live::Live;

/// What the conversation routes share.
#[derive(Clone)]
pub struct ConvaiState {
    pub auth: Arc<Authenticator>,
    pub live: Live,
}

pub fn router(state: ConvaiState) -> Router {
    Router::new()
        .route("/v1/convai/conversation", get(conversation::conversation))
        .route(
            "/v1/convai/conversation/get-signed-url",
            get(signed_url::get_signed_url),
        )
        // ElevenLabs' deprecated spelling, still served by its API.
        .route(
            "/v1/convai/conversation/get_signed_url",
            get(signed_url::get_signed_url),
        )
        .with_state(state)
}
