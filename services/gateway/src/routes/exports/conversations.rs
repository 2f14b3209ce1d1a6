//! `GET /api/exports/conversations`: conversations as CSV or NDJSON, one
//! row each, oldest first, with the filters of `GET /api/conversations`
//! (its `conversations::query` rules, dates also as plain days). Users export their
//! own; finance and admin everyone's, but a transcript only goes to whoever
//! may read it (so finance gets the column empty for other users, and may
//! not search it with `q`), as `GET /api/conversations` has it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use events::AgentId;
use serde::{Deserialize, Serialize};

use super::format::Format;
use super::stream::{self, ExportResponses, Row};
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::routes::conversations::fetch;
use crate::routes::conversations::query::{Filter, Order, Scope, Search, Status, page_filter};
use crate::routes::conversations::reads_what_was_said;
use crate::routes::money::range::Window;
use crate::routes::money::{fields, path};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConversationsExportQuery {
    agent_id: Option<String>,
    /// `initiated`, `in-progress`, `processing`, `done` or `failed`.
    status: Option<String>,
    /// Conversations started at or after this (RFC 3339 time or date).
    from: Option<String>,
    /// Conversations started before this (a date includes that day).
    to: Option<String>,
    /// One user's conversations (a user may name only themself).
    user_id: Option<String>,
    /// Case-insensitive text in what was said (1–200 characters), as `GET /api/conversations` takes it.
    q: Option<String>,
    /// `csv` or `ndjson`; default from `Accept`, else CSV.
    #[param(inline)]
    format: Option<Format>,
}

/// One conversation's row.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationRow {
    conversation_id: String,
    user_id: String,
    agent_id: String,
    status: String,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    /// Seconds.
    duration: i64,
    /// Credits.
    cost: f64,
    message_count: i64,
    total_latency: i64,
    average_latency: f64,
    cost_per_minute: f64,
    elevenlabs_conversation_id: Option<String>,
    termination_reason: Option<String>,
    transcript: Option<String>,
}

impl Row for ConversationRow {
    const COLUMNS: &'static [&'static str] = &[
        "conversationId",
        "userId",
        "agentId",
        "status",
        "startedAt",
        "endedAt",
        "duration",
        "cost",
        "messageCount",
        "totalLatency",
        "averageLatency",
        "costPerMinute",
        "elevenlabsConversationId",
        "terminationReason",
        "transcript",
    ];
}

impl ConversationRow {
    fn of(document: &Document, with_transcript: bool) -> Self {
        Self {
            conversation_id: fields::text(document, "_id").unwrap_or_default(),
            user_id: fields::text(document, "userId").unwrap_or_default(),
            agent_id: fields::text(document, "agentId").unwrap_or_default(),
            status: fields::text(document, "status").unwrap_or_default(),
            started_at: fields::time(document, "startedAt"),
            ended_at: fields::time(document, "endedAt"),
            duration: fields::int(document, "duration"),
            cost: fields::float(document, "cost"),
            message_count: fields::int(document, "metrics.messageCount"),
            total_latency: fields::int(document, "metrics.totalLatency"),
            average_latency: fields::float(document, "metrics.averageLatency"),
            cost_per_minute: fields::float(document, "metrics.costPerMinute"),
            elevenlabs_conversation_id: fields::text(
                document,
                "metadata.elevenlabs_conversation_id",
            ),
            termination_reason: fields::text(document, "metadata.termination_reason"),
            transcript: with_transcript
                .then(|| fields::text(document, "transcript"))
                .flatten(),
        }
    }
}

/// Conversations as CSV or NDJSON, streamed (columns: conversationId, userId, agentId, status, startedAt, endedAt, duration, cost, messageCount, totalLatency, averageLatency, costPerMinute, elevenlabsConversationId, terminationReason, transcript). Users export their own; finance and admin everyone's, finance without others' transcripts.
#[utoipa::path(get, path = "/api/exports/conversations", tag = "exports",
    params(ConversationsExportQuery),
    responses(
        ExportResponses,
        (status = 403, description = "Finance searching what was said (q)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "userId names another user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_conversations(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ConversationsExportQuery>,
) -> Result<Response, ApiError> {
    if query.q.is_some() {
        principal.require_transcript_search()?;
    }
    let format = Format::choose(query.format, &headers)?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let scope = Scope::money(&principal);
    let user_id = match query.user_id.as_deref().map(path::user).transpose()? {
        Some(user) => Some(principal.money_of(user, "user")?.to_string()),
        None => None,
    };
    let agent_id = match query.agent_id {
        Some(agent) => Some(
            agent
                .parse::<AgentId>()
                .map_err(|_| ApiError::BadRequest(format!("agentId `{agent}` is invalid")))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let status = match query.status {
        Some(word) => Some(Status::parse(&word).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status `{word}` is not initiated, in-progress, processing, done or failed"
            ))
        })?),
        None => None,
    };
    let search = query
        .q
        .as_deref()
        .map(Search::new)
        .transpose()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut filter = Filter {
        agent_id,
        user_id,
        status,
        from: window.from.map(bson::DateTime::from_chrono),
        to: window.to.map(bson::DateTime::from_chrono),
        search,
        ..Filter::default()
    };
    if let Some(search) = filter.search.as_mut() {
        search.overflow_hits = fetch::overflow_hits(&state.reads, search).await?;
    }
    let order = Order::OldestFirst;
    let collection = state.reads.conversations();
    let find = collection
        .find(page_filter(scope, &filter, None, order))
        .projection(doc! { "messages": 0, "projection": 0 })
        .sort(order.sort());
    let cursor = stream::open(find).await?;
    tracing::info!(caller = %principal.user_id, ?format, "conversations export started");
    Ok(stream::response(
        cursor,
        format,
        "conversations",
        move |document| ConversationRow::of(&document, reads_what_was_said(&principal, &document)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::exports::stream::assert_columns;

    #[test]
    fn a_row_has_the_columns_and_reads_the_prisma_document() {
        let document = doc! {
            "_id": bson::oid::ObjectId::new(), "userId": bson::oid::ObjectId::new(),
            "agentId": "agent_1", "status": "done", "transcript": "user: hi",
            "duration": 61_i32, "cost": 400.0,
            "metrics": { "messageCount": 3_i32, "totalLatency": 900_i32, "averageLatency": 450.0, "costPerMinute": 393.4 },
            "metadata": { "elevenlabs_conversation_id": "conv_1" },
        };
        let row = ConversationRow::of(&document, true);
        assert_columns(&row);
        assert_eq!(row.message_count, 3);
        assert_eq!(row.elevenlabs_conversation_id.as_deref(), Some("conv_1"));
        assert_eq!(row.transcript.as_deref(), Some("user: hi"));
        assert_eq!(ConversationRow::of(&document, false).transcript, None);
    }
}
