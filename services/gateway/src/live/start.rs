//! Asking the session service to open a conversation (`cmd.session.start`).

use std::time::Duration;

use bus::close::{INTERNAL, POLICY};
use bus::{Close, RequestError};
use events::command::{SessionStarted, StartSession, subject};

pub const UNAVAILABLE_REASON: &str = "session service unavailable";

/// How the client hears of a failed start: refusals are policy (1008) with
/// the session's message, everything else an internal error (1011).
pub fn close_for(error: &RequestError) -> Close {
    match error.refusal() {
        Some(refusal) => Close::new(POLICY, refusal.message.as_str()),
        None => Close::new(INTERNAL, UNAVAILABLE_REASON),
    }
}

/// Asks `cmd.session.start`, waiting at most `timeout` in all (asking again
/// while no session copy is subscribed).
pub async fn start_session(
    nats: &async_nats::Client,
    request: &StartSession,
    timeout: Duration,
) -> Result<SessionStarted, RequestError> {
    bus::request(nats, subject::SESSION_START, request, timeout).await
}
