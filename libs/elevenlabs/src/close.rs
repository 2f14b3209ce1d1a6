//! How a conversation ends (§1.6): close codes, the `error_type` strings the
//! server puts in `error` events or close reasons, and the typed ending.

use std::fmt;

use crate::messages::ErrorEvent;

/// A WebSocket close code, named by what ElevenLabs means by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: the user ended, the agent called `end_call`, or max duration.
    Normal,
    /// 1002: an operational failure (`llm_timeout`, `asr_transcription_error`, …).
    OperationalFailure,
    /// 1008: bad client input or auth (`override_error`, `invalid_message`, …).
    PolicyViolation,
    /// 1011: `unknown_websocket_crash`.
    InternalError,
    /// Any other code, kept as sent.
    Other(u16),
}

impl CloseCode {
    pub fn from_u16(code: u16) -> Self {
        match code {
            1000 => Self::Normal,
            1002 => Self::OperationalFailure,
            1008 => Self::PolicyViolation,
            1011 => Self::InternalError,
            other => Self::Other(other),
        }
    }

    pub fn as_u16(self) -> u16 {
        match self {
            Self::Normal => 1000,
            Self::OperationalFailure => 1002,
            Self::PolicyViolation => 1008,
            Self::InternalError => 1011,
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u16())
    }
}

/// The `error_type` vocabulary of A-pkg, as far as Parlor acts on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorType {
    MaxDurationExceeded,
    OverrideError,
    InvalidMessage,
    ValueError,
    MissingFields,
    MissingDynamicVariable,
    TransportReceiveTimeout,
    LlmTimeout,
    UnknownWebsocketCrash,
    /// Any other string, kept as sent.
    Other(String),
}

impl ErrorType {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "max_duration_exceeded" => Self::MaxDurationExceeded,
            "override_error" => Self::OverrideError,
            "invalid_message" => Self::InvalidMessage,
            "value_error" => Self::ValueError,
            "missing_fields" => Self::MissingFields,
            "missing_dynamic_variable" => Self::MissingDynamicVariable,
            "transport_receive_timeout" => Self::TransportReceiveTimeout,
            "llm_timeout" => Self::LlmTimeout,
            "unknown_websocket_crash" => Self::UnknownWebsocketCrash,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::MaxDurationExceeded => "max_duration_exceeded",
            Self::OverrideError => "override_error",
            Self::InvalidMessage => "invalid_message",
            Self::ValueError => "value_error",
            Self::MissingFields => "missing_fields",
            Self::MissingDynamicVariable => "missing_dynamic_variable",
            Self::TransportReceiveTimeout => "transport_receive_timeout",
            Self::LlmTimeout => "llm_timeout",
            Self::UnknownWebsocketCrash => "unknown_websocket_crash",
            Self::Other(raw) => raw,
        }
    }
}

/// Who started the closing handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    Client,
    Server,
}

/// A conversation that ended with a closing handshake.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationEnd {
    pub initiator: Initiator,
    /// `None` when the close frame carried no code (1005).
    pub code: Option<CloseCode>,
    pub reason: String,
    /// The last `error` event before the close, if the server sent one.
    pub last_error: Option<ErrorEvent>,
    /// The agent announced `end_call` (an `agent_tool_response`) before closing.
    pub agent_ended_call: bool,
}

/// What a [`ConversationEnd`] means for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndKind {
    /// This client closed the conversation.
    ClientEnded,
    /// The agent called the `end_call` system tool.
    AgentEndedCall,
    /// `max_duration_seconds` was reached.
    MaxDurationExceeded,
    /// The server closed with 1000 and gave no further reason.
    ServerEnded,
    /// 1008: the server refused input (bad override, invalid message, auth).
    Rejected(ErrorType),
    /// 1002: an operational failure on the server.
    Failed(ErrorType),
    /// 1011 or any other unexpected code.
    Crashed(CloseCode),
}

impl ConversationEnd {
    /// The `error_type` from the error event, else from the close reason.
    pub fn error_type(&self) -> Option<ErrorType> {
        self.last_error
            .as_ref()
            .and_then(|error| error.error_type.as_deref())
            .or_else(|| {
                let reason = self.reason.trim();
                (!reason.is_empty()).then_some(reason)
            })
            .map(ErrorType::parse)
    }

    pub fn kind(&self) -> EndKind {
        let error_type = self.error_type();
        let unknown = || {
            error_type
                .clone()
                .unwrap_or(ErrorType::Other(String::new()))
        };
        match self.code {
            Some(CloseCode::Normal) | None => {
                if error_type == Some(ErrorType::MaxDurationExceeded) {
                    EndKind::MaxDurationExceeded
                } else if self.agent_ended_call {
                    EndKind::AgentEndedCall
                } else if self.initiator == Initiator::Client {
                    EndKind::ClientEnded
                } else {
                    EndKind::ServerEnded
                }
            }
            Some(CloseCode::PolicyViolation) => EndKind::Rejected(unknown()),
            Some(CloseCode::OperationalFailure) => EndKind::Failed(unknown()),
            Some(code) => EndKind::Crashed(code),
        }
    }

    /// True for the endings of a call that went as planned (1000).
    pub fn is_normal(&self) -> bool {
        matches!(self.code, Some(CloseCode::Normal) | None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(code: u16, reason: &str) -> ConversationEnd {
        ConversationEnd {
            initiator: Initiator::Server,
            code: Some(CloseCode::from_u16(code)),
            reason: reason.to_owned(),
            last_error: None,
            agent_ended_call: false,
        }
    }

    #[test]
    fn codes_round_trip() {
        for code in [1000, 1002, 1008, 1011, 4000] {
            assert_eq!(CloseCode::from_u16(code).as_u16(), code);
        }
        assert_eq!(CloseCode::from_u16(1011), CloseCode::InternalError);
    }

    #[test]
    fn kinds_follow_the_close_table() {
        assert_eq!(
            end(1008, "override_error").kind(),
            EndKind::Rejected(ErrorType::OverrideError)
        );
        assert_eq!(
            end(1002, "llm_timeout").kind(),
            EndKind::Failed(ErrorType::LlmTimeout)
        );
        assert_eq!(
            end(1011, "").kind(),
            EndKind::Crashed(CloseCode::InternalError)
        );
        assert_eq!(end(1000, "").kind(), EndKind::ServerEnded);
        assert!(end(1000, "").is_normal());
        assert!(!end(1011, "").is_normal());
        let mut by_agent = end(1000, "");
        by_agent.agent_ended_call = true;
        assert_eq!(by_agent.kind(), EndKind::AgentEndedCall);
        let mut too_long = end(1000, "");
        too_long.last_error = Some(ErrorEvent {
            code: Some(1000),
            error_type: Some("max_duration_exceeded".to_owned()),
            ..ErrorEvent::default()
        });
        assert_eq!(too_long.kind(), EndKind::MaxDurationExceeded);
    }
}
