//! Asking the session service to open a conversation (`cmd.session.start`).

use std::time::Duration;

use async_nats::{Client, Request, RequestErrorKind};
use bytes::Bytes;
use events::command::{Refusal, Reply, SessionStarted, StartSession, subject};
use tokio::time::Instant;

use crate::live::close::{Close, INTERNAL, POLICY};

pub const UNAVAILABLE_REASON: &str = "session service unavailable";
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(25);
const MAX_RETRY_PAUSE: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("refused: {}", .0.message)]
    Refused(Refusal),
    #[error("session service unavailable: {0}")]
    Unavailable(String),
}

impl StartError {
    /// How the client hears of it: refusals are policy (1008) with the
    /// session's message, everything else an internal error (1011).
    pub fn close(&self) -> Close {
        match self {
            Self::Refused(refusal) => Close::new(POLICY, refusal.message.as_str()),
            Self::Unavailable(_) => Close::new(INTERNAL, UNAVAILABLE_REASON),
        }
    }
}

/// Asks `cmd.session.start`, waiting at most `timeout` in all. While no
/// session service is subscribed (one starting or restarting) the request
/// is repeated with a growing pause, so a brief gap is not a failed call.
pub async fn start_session(
    nats: &Client,
    request: &StartSession,
    timeout: Duration,
) -> Result<SessionStarted, StartError> {
    let body: Bytes = serde_json::to_vec(request)
        .map_err(|e| StartError::Unavailable(e.to_string()))?
        .into();
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_RETRY_PAUSE;
    let reply = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let asked = nats
            .send_request(
                subject::SESSION_START,
                Request::new().payload(body.clone()).timeout(Some(left)),
            )
            .await;
        match asked {
            Ok(reply) => break reply,
            Err(e) if e.kind() == RequestErrorKind::NoResponders && left > pause => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY_PAUSE);
            }
            Err(e) => return Err(StartError::Unavailable(e.to_string())),
        }
    };
    let reply: Reply<SessionStarted> = serde_json::from_slice(&reply.payload)
        .map_err(|e| StartError::Unavailable(format!("unreadable reply: {e}")))?;
    reply.into_result().map_err(StartError::Refused)
}
