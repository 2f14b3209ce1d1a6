//! `POST /api/transcription`: the seed's transcript save. A client-side
//! conversation (held by the client with ElevenLabs directly) is recorded
//! after the fact through the session service (`cmd.session.record`):
//! a new conversation becomes `conversation.requested` (mode
//! `client_side`, at `startedAt`) and `conversation.transcript_submitted`;
//! a repeat — or a conversation Parlor already recorded live — gets
//! nothing, and the answer is the same.
//!
//! `conversationId` is Parlor's id or ElevenLabs' (`conv_…`; see
//! `conversation_ref` for how it maps). The ledger charges the submitted
//! duration at the per-minute rate, and ElevenLabs' own record (fetched by
//! the session, or its webhook) adjusts that to the reported cost.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use events::command::{Record, RecordConversation, RecordOutcome, Recorded, subject};
use events::conversation::{Role, TranscriptLine, TranscriptSubmitted};
use events::{AgentId, CorrelationId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::conversation_ref::ConversationRef;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Lines one transcript may hold.
pub const MAX_MESSAGES: usize = 2_000;
/// The longest line, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// The longest call a transcript may describe.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// How far ahead of the gateway's clock `endedAt` may be (clients' clocks drift).
const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// The longest `status` word.
const MAX_STATUS_LEN: usize = 64;
/// How long the session service may take to record it.
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(save))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TranscriptBody {
    /// Parlor's id (24 hex) or ElevenLabs' (`conv_…`).
    conversation_id: String,
    #[schema(value_type = String)]
    agent_id: AgentId,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    /// At most 2 000 lines of at most 16 KiB each.
    messages: Vec<Line>,
    /// The seed's `ConversationMetrics`, kept as sent.
    #[schema(value_type = Option<Object>)]
    metrics: Option<Value>,
    status: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    role: LineRole,
    message: String,
    /// Seconds from the start of the call.
    time_in_call_secs: Option<f64>,
}

#[derive(Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LineRole {
    User,
    Agent,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    /// Parlor's id of the conversation.
    conversation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    elevenlabs_conversation_id: Option<String>,
    /// `recorded`, the same for a repeat.
    status: &'static str,
}

/// Records a client-side conversation's transcript, once per conversation id.
#[utoipa::path(post, path = "/api/transcription", tag = "transcription",
    request_body = TranscriptBody,
    responses(
        (status = 200, description = "recorded (now or before)", body = Saved),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "the id names another user's conversation",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn save(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<TranscriptBody>,
) -> Result<Json<Saved>, ApiError> {
    let reference = ConversationRef::parse_field(&body.conversation_id, "conversationId")?;
    let transcript = validate(&body, reference.elevenlabs_id(), Utc::now())?;
    let conversation_id = reference
        .resolve(&state.live.elevenlabs_ids, &state.reads)
        .await?;
    let command = RecordConversation {
        conversation_id,
        correlation_id: CorrelationId::new(),
        record: Record::Transcript {
            user_id: principal.user_id,
            agent_id: body.agent_id,
            started_at: body.started_at,
            transcript,
        },
    };
    let recorded: Recorded = bus::request(
        &state.nats,
        subject::SESSION_RECORD,
        &command,
        RECORD_TIMEOUT,
    )
    .await
    .map_err(|error| match error.refusal() {
        Some(refusal) => ApiError::BadRequest(refusal.message.clone()),
        None => {
            tracing::warn!(%error, %conversation_id, "transcript not recorded");
            ApiError::Unavailable("the session service")
        }
    })?;
    if recorded.user_id != Some(principal.user_id) {
        return Err(ApiError::NotFound("conversation"));
    }
    tracing::info!(
        %conversation_id,
        correlation_id = %command.correlation_id,
        new = recorded.outcome == RecordOutcome::Recorded,
        "transcript saved"
    );
    Ok(Json(Saved {
        conversation_id: conversation_id.to_string(),
        elevenlabs_conversation_id: reference.elevenlabs_id().map(str::to_owned),
        status: "recorded",
    }))
}

/// The body's rules, and the event it becomes.
fn validate(
    body: &TranscriptBody,
    elevenlabs_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TranscriptSubmitted, ApiError> {
    let bad = |detail: String| Err(ApiError::Unprocessable(detail));
    if body.started_at > body.ended_at {
        return bad("startedAt must not be after endedAt".into());
    }
    let duration = (body.ended_at - body.started_at)
        .to_std()
        .unwrap_or_default();
    if duration > MAX_DURATION {
        return bad(format!(
            "a call may last at most {} hours",
            MAX_DURATION.as_secs() / 3600
        ));
    }
    let skew = chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
    if body.ended_at > now + skew {
        return bad("endedAt is in the future".into());
    }
    if body.messages.len() > MAX_MESSAGES {
        return bad(format!("at most {MAX_MESSAGES} messages"));
    }
    if body
        .status
        .as_ref()
        .is_some_and(|s| s.len() > MAX_STATUS_LEN)
    {
        return bad(format!("status must be at most {MAX_STATUS_LEN} bytes"));
    }
    let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let mut messages = Vec::with_capacity(body.messages.len());
    for (i, line) in body.messages.iter().enumerate() {
        if line.message.len() > MAX_MESSAGE_BYTES {
            return bad(format!(
                "messages[{i}].message must be at most {MAX_MESSAGE_BYTES} bytes"
            ));
        }
        let secs = line.time_in_call_secs.unwrap_or(0.0);
        if !secs.is_finite() || secs < 0.0 {
            return bad(format!(
                "messages[{i}].timeInCallSecs must be a number of seconds ≥ 0"
            ));
        }
        // Whole milliseconds; a time past the end is kept at the end.
        let time_in_call_ms = ((secs * 1000.0).round() as u64).min(duration_ms);
        messages.push(TranscriptLine {
            role: match line.role {
                LineRole::User => Role::User,
                LineRole::Agent => Role::Agent,
            },
            text: line.message.clone(),
            time_in_call_ms,
        });
    }
    Ok(TranscriptSubmitted {
        elevenlabs_conversation_id: elevenlabs_id.map(str::to_owned),
        messages,
        duration_ms,
        metrics: body.metrics.clone().map(Box::new),
        metadata: body.metadata.clone().map(Box::new),
        status: body.status.clone(),
    })
}
