//! `GET /api/conversations/{id}/live`: a conversation's new messages and
//! status as server-sent events, fed from the event log (an ordered
//! JetStream consumer on `conv.<id>` from its first event, so history and
//! live follow each other with no gap and no read model is polled). The
//! owner is read from the first event's envelope, so the stream opens as
//! soon as the call is requested, before any projection exists.
//!
//! Events: `status` (`initiated`, `in-progress`), `message` (a line of the
//! transcript), `correction` (an agent line cut short), `ended` (the
//! terminal status); the stream closes after `ended`. Each event's `id` is
//! the log's sequence. Keep-alive comments every 15 s.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use events::conversation::{Role, TranscriptLine};
use events::{ConversationEvent, Envelope};
use eventstore::{Family, StreamName};
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::conversation_ref::ConversationRef;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// How long the first event may take to arrive once the log says it is there.
const FIRST_EVENT_TIMEOUT: Duration = Duration::from_secs(5);
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live))
}

/// Follows a conversation: server-sent events until it ends.
#[utoipa::path(get, path = "/api/conversations/{id}/live", tag = "conversations",
    params(("id" = String, Path, description = "Parlor's id (24 hex) or ElevenLabs' (`conv_…`)")),
    responses(
        (status = 200, description = "`text/event-stream`: `status`, `message`, `correction`, then `ended`",
            content_type = "text/event-stream", body = String),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such conversation, or another user's",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn live(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let reference = ConversationRef::parse_field(&id, "id")?;
    let id = reference
        .resolve(&state.live.elevenlabs_ids, &state.reads)
        .await?;
    let js = async_nats::jetstream::new(state.nats.clone());
    let stream = js
        .get_stream(StreamName::Conversations.as_str())
        .await
        .map_err(|_| ApiError::Unavailable("the event log"))?;
    let mut consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: <ConversationEvent as Family>::subject(id),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|_| ApiError::Unavailable("the event log"))?;
    let pending = consumer
        .info()
        .await
        .map_err(|_| ApiError::Unavailable("the event log"))?
        .num_pending;
    if pending == 0 {
        return Err(ApiError::NotFound("conversation"));
    }
    let mut messages = consumer
        .messages()
        .await
        .map_err(|_| ApiError::Unavailable("the event log"))?;
    let first = tokio::time::timeout(FIRST_EVENT_TIMEOUT, messages.next())
        .await
        .ok()
        .flatten()
        .and_then(Result::ok)
        .ok_or(ApiError::Unavailable("the event log"))?;
    let first = decode(&first).ok_or(ApiError::Unavailable("the event log"))?;
    let owner = first
        .1
        .meta
        .user_id
        .ok_or(ApiError::NotFound("conversation"))?;
    if !principal.sees_conversations_of(owner) {
        return Err(ApiError::NotFound("conversation"));
    }
    tracing::info!(conversation_id = %id, user_id = %principal.user_id, "live events opened");
    let mut queue = VecDeque::new();
    let over = to_events(first.0, &first.1, &mut queue);
    // `over`: the terminal event is queued; `closed`: the log stopped.
    let follow = futures::stream::unfold(
        (messages, queue, over, false),
        move |(mut messages, mut queue, mut over, mut closed)| async move {
            loop {
                if let Some(event) = queue.pop_front() {
                    return Some((Ok(event), (messages, queue, over, closed)));
                }
                if closed || over {
                    return None;
                }
                match messages.next().await {
                    Some(Ok(message)) => {
                        if let Some((sequence, envelope)) = decode(&message) {
                            over = to_events(sequence, &envelope, &mut queue);
                        }
                    }
                    Some(Err(error)) => {
                        tracing::warn!(conversation_id = %id, %error, "live events lost the log");
                        closed = true;
                    }
                    None => closed = true,
                }
            }
        },
    );
    Ok(Sse::new(follow).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

fn decode(message: &async_nats::jetstream::Message) -> Option<(u64, Envelope<ConversationEvent>)> {
    let sequence = message.info().ok()?.stream_sequence;
    match Envelope::from_json(&message.payload) {
        Ok(envelope) => Some((sequence, envelope)),
        Err(error) => {
            tracing::warn!(sequence, %error, "live events skip an event this build cannot read");
            None
        }
    }
}

/// The SSE events of one conversation event; true once it is over.
fn to_events(
    sequence: u64,
    envelope: &Envelope<ConversationEvent>,
    queue: &mut VecDeque<Event>,
) -> bool {
    let at = envelope.meta.occurred_at;
    let mut push = |name: &str, data: Value| {
        queue.push_back(
            Event::default()
                .id(sequence.to_string())
                .event(name)
                .data(data.to_string()),
        );
    };
    match &envelope.event {
        ConversationEvent::Requested(_) => push("status", json!({"status": "initiated"})),
        ConversationEvent::Started(e) => push(
            "status",
            json!({
                "status": "in-progress",
                "elevenlabsConversationId": e.elevenlabs_conversation_id,
                "textOnly": e.text_only,
            }),
        ),
        ConversationEvent::UserMessage(e) => {
            push(
                "message",
                line("user", &e.text, e.time_in_call_ms, at, None),
            );
        }
        ConversationEvent::AgentMessage(e) => push(
            "message",
            line("agent", &e.text, e.time_in_call_ms, at, e.latency_ms),
        ),
        ConversationEvent::AgentMessageCorrected(e) => push(
            "correction",
            json!({"original": e.original, "corrected": e.corrected, "timeInCallSecs": secs(e.time_in_call_ms)}),
        ),
        ConversationEvent::TranscriptSubmitted(e) => {
            for TranscriptLine {
                role,
                text,
                time_in_call_ms,
            } in &e.messages
            {
                let who = match role {
                    Role::User => "user",
                    Role::Agent => "agent",
                };
                push("message", line(who, text, *time_in_call_ms, at, None));
            }
            push(
                "ended",
                json!({"status": "processing", "durationSecs": secs(e.duration_ms)}),
            );
            return true;
        }
        ConversationEvent::Ended(e) => {
            push(
                "ended",
                json!({"status": "processing", "reason": e.reason, "durationSecs": secs(e.duration_ms)}),
            );
            return true;
        }
        ConversationEvent::Failed(e) => {
            push(
                "ended",
                json!({"status": "failed", "reason": e.reason, "message": e.message, "durationSecs": secs(e.duration_ms)}),
            );
            return true;
        }
        ConversationEvent::Interrupted(_)
        | ConversationEvent::ToolCalled(_)
        | ConversationEvent::CostReported(_)
        | ConversationEvent::AnalysisReported(_) => {}
    }
    false
}

/// A transcript line in the read model's shape.
fn line(
    role: &str,
    text: &str,
    time_in_call_ms: u64,
    at: DateTime<Utc>,
    latency_ms: Option<u64>,
) -> Value {
    let mut line = json!({
        "role": role,
        "message": text,
        "timeInCallSecs": secs(time_in_call_ms),
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    if let Some(latency) = latency_ms {
        line["latencyMs"] = json!(latency);
    }
    line
}

fn secs(ms: u64) -> u64 {
    ms / 1000
}
