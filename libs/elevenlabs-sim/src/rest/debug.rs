//! Simulator-only routes under `/_sim/`, for tests and tools in another
//! process. They are no part of the ElevenLabs surface and need no key.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::Shared;

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new().route("/_sim/open-calls", get(open_calls))
}

/// `{"open_calls": ["conv_…", …]}`: conversations whose socket is still open.
async fn open_calls(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "open_calls": shared.open_calls.ids() }))
}
