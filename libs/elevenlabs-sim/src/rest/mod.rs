//! The REST surface of §2: signed URLs, conversation records and agents,
//! every route behind the `xi-api-key` check with the documented error shapes.
//!
//! `mod.rs` holds the router, the errors, the key check and signed URLs;
//! `conversations.rs` and `agents.rs` the two resources; `debug.rs` the
//! simulator's own `/_sim/` routes.

mod agents;
mod conversations;
mod debug;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::fault::Fault;
use crate::state::Shared;

type SharedState = State<Arc<Shared>>;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/convai/conversation/get-signed-url", get(signed_url))
        .route("/v1/convai/conversation/get_signed_url", get(signed_url))
        .route("/v1/convai/analytics/live-count", get(live_count))
        .merge(conversations::router())
        .merge(agents::router())
        .merge(debug::router())
}

/// The documented REST error shapes (§2, §4.1).
#[derive(Debug)]
pub(crate) enum ApiError {
    InvalidApiKey,
    /// With the configured `Retry-After` seconds, if any.
    TooManyConcurrent(Option<u64>),
    NotFound {
        status: &'static str,
        message: String,
    },
    /// `loc` is e.g. `["query", "page_size"]` or `["body", "name"]`.
    Validation {
        loc: [&'static str; 2],
        message: String,
    },
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let detail =
            |status: &str, message: &str| json!({"detail": {"status": status, "message": message}});
        let (code, body) = match self {
            Self::InvalidApiKey => (
                StatusCode::UNAUTHORIZED,
                detail("invalid_api_key", "Invalid API key"),
            ),
            Self::TooManyConcurrent(retry_after) => {
                let body = detail(
                    "too_many_concurrent_requests",
                    "Too many concurrent requests for your subscription.",
                );
                let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                if let Some(secs) = retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                return response;
            }
            Self::NotFound { status, message } => (StatusCode::NOT_FOUND, detail(status, &message)),
            Self::Validation { loc, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"detail": [{"loc": loc, "msg": message, "type": "value_error"}]}),
            ),
        };
        (code, Json(body)).into_response()
    }
}

/// The `xi-api-key` check, then the armed 429 refusal.
pub(crate) fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let key = headers.get("xi-api-key").and_then(|v| v.to_str().ok());
    if key != Some(shared.api_key.as_str()) {
        return Err(ApiError::InvalidApiKey);
    }
    if shared
        .faults
        .take(|f| (*f == Fault::RefuseRest429).then_some(()))
        .is_some()
    {
        return Err(ApiError::TooManyConcurrent(shared.retry_after_secs));
    }
    Ok(())
}

pub(crate) fn agent_not_found(id: &str) -> ApiError {
    ApiError::NotFound {
        status: "agent_not_found",
        message: format!("Agent with id {id} not found"),
    }
}

pub(crate) fn conversation_not_found(id: &str) -> ApiError {
    ApiError::NotFound {
        status: "conversation_not_found",
        message: format!("Conversation with id {id} not found"),
    }
}

async fn signed_url(
    State(shared): SharedState,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let agent_id = q.get("agent_id").ok_or(ApiError::Validation {
        loc: ["query", "agent_id"],
        message: "Field required".to_owned(),
    })?;
    if shared.agent(agent_id).is_none() {
        return Err(agent_not_found(agent_id));
    }
    let token = shared.signed_urls.issue(agent_id);
    let url = format!(
        "ws://{}/v1/convai/conversation?agent_id={agent_id}&conversation_signature={token}",
        shared.addr()
    );
    Ok(Json(json!({ "signed_url": url })))
}

async fn live_count(
    State(shared): SharedState,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let count = shared
        .records
        .live_count(q.get("agent_id").map(String::as_str));
    Ok(Json(json!({ "count": count })))
}
