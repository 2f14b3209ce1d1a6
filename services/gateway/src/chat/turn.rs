//! One message of a chat and the agent's reply: a `user_message` frame on
//! `live.<id>.in`, then the frames of `live.<id>.out` until the reply.
//!
//! The reply is the first `agent_response` after ElevenLabs echoed the
//! message as a `user_transcript`, so an agent's greeting (or a reply to
//! an earlier message) still in flight is not taken for it.

use std::time::Duration;

use bus::{LiveMessage, LiveSender};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::error::ApiError;

/// The conversation is still running after the reply (the read model's word).
pub const IN_PROGRESS: &str = "in-progress";

/// What one message got back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Turn {
    pub reply: String,
    /// [`IN_PROGRESS`]: a conversation that ended before its reply is an
    /// error instead.
    pub status: &'static str,
}

/// Sends `message` and waits at most `timeout` for the reply.
pub async fn exchange(
    out: &mut async_nats::Subscriber,
    sender: &LiveSender,
    message: &str,
    timeout: Duration,
) -> Result<Turn, ApiError> {
    let frame = json!({"type": "user_message", "text": message}).to_string();
    sender
        .frame(frame.into())
        .await
        .map_err(|_| ApiError::Unavailable("NATS"))?;
    let deadline = Instant::now() + timeout;
    let mut echoed = false;
    loop {
        let next = tokio::time::timeout_at(deadline, out.next()).await;
        let Ok(Some(message)) = next else {
            tracing::warn!(
                subject = sender.subject(),
                "no reply from the agent in time"
            );
            return Err(ApiError::Unavailable("the agent's reply"));
        };
        match LiveMessage::from_message(&message) {
            LiveMessage::Heartbeat => {}
            LiveMessage::Close(close) => {
                tracing::info!(code = close.code, reason = %close.reason, "the chat ended before a reply");
                return Err(ApiError::Conflict(format!(
                    "the conversation ended before the agent replied ({}: {})",
                    close.code, close.reason
                )));
            }
            LiveMessage::Frame(payload) => {
                let Ok(event) = serde_json::from_slice::<Value>(&payload) else {
                    continue;
                };
                match event.get("type").and_then(Value::as_str) {
                    Some("user_transcript") => echoed = true,
                    Some("agent_response") if echoed => {
                        let reply = event
                            .pointer("/agent_response_event/agent_response")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        return Ok(Turn {
                            reply,
                            status: IN_PROGRESS,
                        });
                    }
                    _ => {}
                }
            }
        }
    }
}
