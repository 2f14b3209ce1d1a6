//! Conversation records: list (cursor paging and filters), details,
//! delete, audio and feedback (§2.1–§2.3).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{ApiError, SharedState, authorize, conversation_not_found};
use crate::records::ListQuery;
use crate::state::Shared;

/// Largest and default `page_size` of the list endpoint (§2.1).
const PAGE_SIZE_MAX: usize = 100;
const PAGE_SIZE_DEFAULT: usize = 30;

/// One silent MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz): header, then
/// zeroed side info and data, which decoders play as silence.
const MP3_FRAME_LEN: usize = 417;
const MP3_FRAMES_PER_SEC: u64 = 39;

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/convai/conversations", get(list_conversations))
        .route(
            "/v1/convai/conversations/{id}",
            get(get_conversation).delete(delete_conversation),
        )
        .route(
            "/v1/convai/conversations/{id}/audio",
            get(conversation_audio),
        )
        .route("/v1/convai/conversations/{id}/feedback", post(feedback))
}

fn parse_u64(q: &HashMap<String, String>, field: &'static str) -> Result<Option<u64>, ApiError> {
    q.get(field)
        .map(|v| {
            v.parse().map_err(|_| ApiError::Validation {
                loc: ["query", field],
                message: "Input should be a valid integer".to_owned(),
            })
        })
        .transpose()
}

async fn list_conversations(
    State(shared): SharedState,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let page_size = parse_u64(&q, "page_size")?.map_or(PAGE_SIZE_DEFAULT, |n| n as usize);
    if !(1..=PAGE_SIZE_MAX).contains(&page_size) {
        return Err(ApiError::Validation {
            loc: ["query", "page_size"],
            message: format!("Input should be between 1 and {PAGE_SIZE_MAX}"),
        });
    }
    let query = ListQuery {
        cursor: q.get("cursor").cloned(),
        agent_id: q.get("agent_id").cloned(),
        user_id: q.get("user_id").cloned(),
        call_successful: q.get("call_successful").cloned(),
        before: parse_u64(&q, "call_start_before_unix")?,
        after: parse_u64(&q, "call_start_after_unix")?,
        page_size,
        include_summary: q.get("summary_mode").is_some_and(|m| m == "include"),
    };
    Ok(Json(shared.records.list(&query)))
}

async fn get_conversation(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    shared
        .records
        .details(&id)
        .map(Json)
        .ok_or_else(|| conversation_not_found(&id))
}

async fn delete_conversation(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    if shared.records.delete(&id) {
        Ok(Json(json!({})))
    } else {
        Err(conversation_not_found(&id))
    }
}

async fn conversation_audio(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let record = shared
        .records
        .get(&id)
        .ok_or_else(|| conversation_not_found(&id))?;
    let frames = (record.call_duration_secs.max(1) * MP3_FRAMES_PER_SEC) as usize;
    let mut body = Vec::with_capacity(frames * MP3_FRAME_LEN);
    for _ in 0..frames {
        let start = body.len();
        body.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        body.resize(start + MP3_FRAME_LEN, 0);
    }
    Ok(([(header::CONTENT_TYPE, "audio/mpeg")], body).into_response())
}

async fn feedback(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let score = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b.get("feedback").and_then(Value::as_str).map(str::to_owned))
        .filter(|s| matches!(s.as_str(), "like" | "dislike"))
        .ok_or(ApiError::Validation {
            loc: ["body", "feedback"],
            message: "Input should be 'like' or 'dislike'".to_owned(),
        })?;
    if shared.records.update(&id, |r| r.feedback.rate(score)) {
        Ok(Json(json!({})))
    } else {
        Err(conversation_not_found(&id))
    }
}
