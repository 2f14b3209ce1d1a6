//! How a conversation ends (§1.6): the reasons the loop stops, and for
//! each the `error` event, close frame and record fields it produces.

use serde_json::Value;

use super::{CLOSE_POLICY, events};

pub(crate) const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_CRASH: u16 = 1011;
/// Recorded (never sent) when the connection is dropped without a close frame.
const CLOSE_ABNORMAL: u16 = 1006;

/// Why the loop stopped.
#[derive(Debug)]
pub(crate) enum End {
    ClientClosed {
        code: Option<u16>,
    },
    ClientGone,
    AgentEndCall,
    MaxDuration,
    Refused {
        code: u16,
        error_type: &'static str,
        message: String,
    },
    Dropped,
    Crash,
    Shutdown,
}

impl End {
    pub(crate) fn bad_input(error_type: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code: CLOSE_POLICY,
            error_type,
            message: message.into(),
        }
    }
}

/// The wire and record side of an [`End`].
pub(super) struct Ending {
    /// `error` event sent before closing.
    pub(super) error_event: Option<Value>,
    /// Close frame we send.
    pub(super) close: Option<(u16, &'static str)>,
    /// `metadata.error`.
    pub(super) error: Option<(u16, String)>,
    /// `metadata.termination_reason`.
    pub(super) reason: String,
}

impl Ending {
    pub(super) fn of(end: &End, max_duration_secs: f64) -> Self {
        let plain = |close, reason: &str| Self {
            error_event: None,
            close,
            error: None,
            reason: reason.to_owned(),
        };
        let failed = |code: u16, error_type: &'static str, message: String| Self {
            error_event: Some(events::error(code, error_type, &message)),
            close: Some((code, error_type)),
            error: Some((code, error_type.to_owned())),
            reason: message,
        };
        match end {
            End::ClientClosed { .. } | End::ClientGone => plain(None, "Client disconnected"),
            End::AgentEndCall => plain(
                Some((CLOSE_NORMAL, "end_call")),
                "end_call tool was called.",
            ),
            End::MaxDuration => Self {
                error_event: Some(events::error(
                    CLOSE_NORMAL,
                    "max_duration_exceeded",
                    &format!("Maximum duration of {max_duration_secs} seconds exceeded"),
                )),
                ..plain(
                    Some((CLOSE_NORMAL, "max_duration_exceeded")),
                    "Maximum call duration exceeded",
                )
            },
            End::Refused {
                code,
                error_type,
                message,
            } => failed(*code, error_type, message.clone()),
            End::Dropped => Self {
                error: Some((CLOSE_ABNORMAL, "connection_lost".to_owned())),
                ..plain(None, "Connection lost")
            },
            End::Crash => failed(
                CLOSE_CRASH,
                "unknown_websocket_crash",
                "Unexpected server error".to_owned(),
            ),
            End::Shutdown => plain(
                Some((CLOSE_GOING_AWAY, "Server shutting down")),
                "Server shutting down",
            ),
        }
    }
}
