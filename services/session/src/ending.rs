//! How a call ended, as a domain event and as the close the client sees.

use bus::Close;
use elevenlabs::{ConversationEnd, ConversationError, EndKind, ErrorType};
use events::ConversationEvent;
use events::conversation::{EndReason, Ended, Failed, FailureReason};

/// Who or what stopped the relay loop before the upstream said anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoppedBy {
    /// Upstream ended the call (or the socket died).
    Upstream,
    /// The client closed with this code (1006: it vanished).
    Client(u16),
    /// The client sent something that is not a protocol message.
    ClientProtocolError,
    /// The gateway closed the client for breaking the call's bounds (reason).
    ClientLimit(String),
    /// The gateway closed the client for a frame that is not the protocol.
    ClientInvalid(String),
    /// This service is shutting down.
    Shutdown,
}

/// The event that closes the conversation in the log, and the close code
/// and reason to pass to the client (none when the client is gone).
pub fn conclude(
    stopped_by: StoppedBy,
    upstream: &Result<ConversationEnd, ConversationError>,
    duration_ms: u64,
) -> (ConversationEvent, Option<Close>) {
    let ended = |reason, close_code| {
        ConversationEvent::Ended(Ended {
            reason,
            duration_ms,
            close_code,
        })
    };
    let failed = |reason, message: String| {
        ConversationEvent::Failed(Failed {
            reason,
            message,
            duration_ms,
        })
    };
    match stopped_by {
        StoppedBy::Client(1006) => (ended(EndReason::ClientDisconnected, Some(1006)), None),
        StoppedBy::Client(code) => (ended(EndReason::UserEnded, Some(code)), None),
        StoppedBy::ClientProtocolError => (
            failed(
                FailureReason::ProtocolError,
                "the client sent a frame that is not JSON".into(),
            ),
            Some(Close::new(1008, "invalid_message")),
        ),
        StoppedBy::ClientLimit(reason) => (failed(FailureReason::LimitExceeded, reason), None),
        StoppedBy::ClientInvalid(reason) => (failed(FailureReason::ProtocolError, reason), None),
        StoppedBy::Shutdown => (
            failed(
                FailureReason::SessionLost,
                "the session service stopped".into(),
            ),
            Some(Close::new(1001, "server shutting down")),
        ),
        StoppedBy::Upstream => match upstream {
            Ok(end) => from_upstream(end, duration_ms),
            Err(e) => (
                failed(FailureReason::UpstreamError, e.to_string()),
                Some(Close::new(1011, "upstream connection lost")),
            ),
        },
    }
}

fn from_upstream(end: &ConversationEnd, duration_ms: u64) -> (ConversationEvent, Option<Close>) {
    let code = end.code.map(|c| c.as_u16());
    let close = Some(Close::new(code.unwrap_or(1000), end.reason.clone()));
    let ended = |reason| {
        ConversationEvent::Ended(Ended {
            reason,
            duration_ms,
            close_code: code,
        })
    };
    let failed = |reason, error_type: &ErrorType| {
        let message = if end.reason.is_empty() {
            error_type.as_str().to_owned()
        } else {
            end.reason.clone()
        };
        ConversationEvent::Failed(Failed {
            reason,
            message,
            duration_ms,
        })
    };
    let event = match end.kind() {
        EndKind::AgentEndedCall | EndKind::ServerEnded => ended(EndReason::AgentEnded),
        EndKind::ClientEnded => ended(EndReason::UserEnded),
        EndKind::MaxDurationExceeded => ended(EndReason::MaxDurationExceeded),
        EndKind::Failed(ErrorType::TransportReceiveTimeout) => ended(EndReason::InactivityTimeout),
        EndKind::Rejected(t) => failed(FailureReason::Refused, &t),
        EndKind::Failed(t) => failed(FailureReason::UpstreamError, &t),
        EndKind::Crashed(c) => failed(
            FailureReason::UpstreamError,
            &ErrorType::Other(format!("closed with {c}")),
        ),
    };
    (event, close)
}
