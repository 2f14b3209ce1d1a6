//! The text chat of `POST /api/agent`: each chat is a text-only live
//! conversation (`cmd.session.start`, then the `text_only` override as the
//! initiation frame on `live.<id>.in`), and each message a `user_message`
//! frame whose reply is read from `live.<id>.out`.
//!
//! A chat holds no state in the gateway beyond its subjects: any copy can
//! send the next message. The copy that opened it also runs its
//! [`keeper`], which holds the user's live-call slot, sends the session's
//! heartbeats and closes the chat with 1000 (a normal end) once no message
//! has passed either way for the idle time.
//!
//! Messages of one chat are meant to be sent one after the other, as a
//! person chats: two sent at once may each be given the other's reply.
//!
//! # Layout
//!
//! * [`keeper`] — heartbeats and the idle close of one chat.
//! * [`turn`] — one message and the agent's reply to it.

pub mod keeper;
pub mod turn;

use std::time::Duration;

use bus::RequestError;
use bytes::Bytes;
use events::command::{RefusalCode, StartSession, subject};
use events::{AgentId, ConversationEvent, ConversationId, CorrelationId, UserId};
use eventstore::EventStore;
use serde_json::json;

use crate::error::ApiError;
use crate::live::{Live, start};

pub use turn::Turn;

/// How long a chat may sit without a message before it is closed.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(120);
/// How long one message may wait for the agent's reply.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a busy session service is given before a client asks again.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatConfig {
    /// `PARLOR_CHAT_IDLE_MS`.
    pub idle: Duration,
    /// `PARLOR_CHAT_REPLY_TIMEOUT_MS`.
    pub reply_timeout: Duration,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            idle: DEFAULT_IDLE,
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
        }
    }
}

/// The frame that opens a chat: ElevenLabs' documented text-only override.
fn initiation_frame() -> Bytes {
    json!({
        "type": "conversation_initiation_client_data",
        "conversation_config_override": {"conversation": {"text_only": true}},
    })
    .to_string()
    .into()
}

/// Opens a chat for `user` with `agent` and sends its first message.
pub async fn open(
    live: &Live,
    config: ChatConfig,
    user_id: UserId,
    agent_id: AgentId,
    message: &str,
) -> Result<(ConversationId, Turn), ApiError> {
    let call = live.calls.begin(user_id).await?;
    let correlation_id = CorrelationId::new();
    let request = StartSession {
        user_id,
        agent_id,
        correlation_id,
        initiation: None,
    };
    let started = start::start_session(&live.nats, &request, live.start_timeout)
        .await
        .map_err(start_error)?;
    let id = started.conversation_id;
    tracing::info!(conversation_id = %id, %correlation_id, %user_id, "chat opened");
    // Subscribed before anything is sent, so no frame of the reply is missed.
    let mut out = subscribe_out(&live.nats, id).await?;
    let sender = bus::LiveSender::unnumbered(live.nats.clone(), started.subject_in.clone());
    live.tracker
        .spawn(keeper::keep(live.clone(), config, id, call, sender.clone()));
    if sender.frame(initiation_frame()).await.is_err() {
        return Err(ApiError::Unavailable("the session service"));
    }
    let turn = turn::exchange(&mut out, &sender, message, config.reply_timeout).await?;
    Ok((id, turn))
}

/// Sends the next message of chat `id`, which `user_id` must own (with
/// `agent_id`) and which must still be running. Reads the conversation's
/// events for that: the read model may not have caught up with a chat
/// opened a moment ago.
pub async fn continue_chat(
    live: &Live,
    config: ChatConfig,
    user_id: UserId,
    id: ConversationId,
    agent_id: &AgentId,
    message: &str,
) -> Result<Turn, ApiError> {
    let store = EventStore::new(live.nats.clone());
    let loaded = store
        .load::<ConversationEvent>(id)
        .await
        .map_err(|_| ApiError::Unavailable("the event log"))?;
    let first = loaded
        .events
        .first()
        .ok_or(ApiError::NotFound("conversation"))?;
    if first.envelope.meta.user_id != Some(user_id) {
        return Err(ApiError::NotFound("conversation"));
    }
    if first.envelope.meta.agent_id.as_ref() != Some(agent_id) {
        return Err(ApiError::Unprocessable(
            "agentId is not the agent of this conversation".into(),
        ));
    }
    let events: Vec<&ConversationEvent> = loaded.events.iter().map(|s| &s.envelope.event).collect();
    if events.iter().any(|e| e.is_terminal()) {
        return Err(ApiError::Conflict("this conversation has ended".into()));
    }
    let text_chat = events
        .iter()
        .any(|e| matches!(e, ConversationEvent::Started(s) if s.text_only));
    if !text_chat {
        return Err(ApiError::Conflict(
            "this conversation is not a text chat opened by POST /api/agent (or not started yet)"
                .into(),
        ));
    }
    let sent = events
        .iter()
        .filter(|e| matches!(e, ConversationEvent::UserMessage(_)))
        .count();
    if u32::try_from(sent).unwrap_or(u32::MAX) >= live.bounds.user_messages_per_call {
        return Err(ApiError::Conflict(format!(
            "a conversation takes at most {} messages; start a new one",
            live.bounds.user_messages_per_call
        )));
    }
    let mut out = subscribe_out(&live.nats, id).await?;
    let sender = bus::LiveSender::unnumbered(live.nats.clone(), subject::live_in(id));
    turn::exchange(&mut out, &sender, message, config.reply_timeout).await
}

async fn subscribe_out(
    nats: &async_nats::Client,
    id: ConversationId,
) -> Result<async_nats::Subscriber, ApiError> {
    nats.subscribe(subject::live_out(id))
        .await
        .map_err(|_| ApiError::Unavailable("NATS"))
}

/// How a failed `cmd.session.start` is answered.
fn start_error(error: RequestError) -> ApiError {
    let Some(refusal) = error.refusal() else {
        tracing::warn!(%error, "chat not started");
        return ApiError::Unavailable("the session service");
    };
    match refusal.code {
        RefusalCode::InsufficientCredits => ApiError::Conflict(refusal.message.clone()),
        RefusalCode::AgentNotFound => ApiError::NotFound("agent"),
        RefusalCode::Busy => ApiError::TooManyRequests {
            reason: refusal.message.clone(),
            retry_after: BUSY_RETRY_AFTER,
        },
        RefusalCode::InvalidRequest => ApiError::BadRequest(refusal.message.clone()),
        RefusalCode::Unavailable => ApiError::Unavailable("the session service"),
    }
}
