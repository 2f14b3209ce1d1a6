//! The bounds of one live call, enforced here at the edge before a frame
//! reaches NATS (DESIGN §5): the largest frame, frames and user messages per
//! second, and user messages per call. Every frame must also be a client
//! message of the ElevenLabs protocol. Pure: the caller passes frames in
//! and hears what to do.
//!
//! A violation is answered the ElevenLabs way: an `error` event naming it,
//! then a close (1009 for a frame too large, 1008 otherwise).

use std::num::NonZeroU32;

use bus::Close;
use bus::close::{MESSAGE_TOO_BIG, POLICY};
use elevenlabs::{ClientMessage, ParseError};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::json;

/// The largest client text frame, in bytes (`PARLOR_MAX_FRAME_BYTES`):
/// a 250 ms audio chunk is about 11 KB, and NATS carries at most 1 MB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 256 * 1024;
/// Client frames per second, with bursts of twice that
/// (`PARLOR_FRAMES_PER_SEC`): audio streams four chunks a second.
pub const DEFAULT_FRAMES_PER_SEC: u32 = 50;
/// Typed user messages (`user_message`, `contextual_update`,
/// `multimodal_message`) per second (`PARLOR_USER_MESSAGES_PER_SEC`)...
pub const DEFAULT_USER_MESSAGES_PER_SEC: u32 = 10;
/// ...with bursts of this many (`PARLOR_USER_MESSAGE_BURST`).
pub const DEFAULT_USER_MESSAGE_BURST: u32 = 20;
/// Typed user messages in one call (`PARLOR_USER_MESSAGES_PER_CALL`).
pub const DEFAULT_USER_MESSAGES_PER_CALL: u32 = 500;

const TWO: NonZeroU32 = NonZeroU32::new(2).expect("two is not zero");

/// The configured bounds (see the constants for each default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub max_frame_bytes: usize,
    pub frames_per_sec: NonZeroU32,
    pub user_messages_per_sec: NonZeroU32,
    pub user_message_burst: NonZeroU32,
    pub user_messages_per_call: u32,
}

impl Default for Bounds {
    fn default() -> Self {
        let nonzero = |n| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            frames_per_sec: nonzero(DEFAULT_FRAMES_PER_SEC),
            user_messages_per_sec: nonzero(DEFAULT_USER_MESSAGES_PER_SEC),
            user_message_burst: nonzero(DEFAULT_USER_MESSAGE_BURST),
            user_messages_per_call: DEFAULT_USER_MESSAGES_PER_CALL,
        }
    }
}

/// Why a frame ends the call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("frame larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("binary frames are not part of the protocol; send JSON text frames")]
    Binary,
    #[error("frame is not a JSON object")]
    NotJson,
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    #[error("a message without `type` that is not `user_audio_chunk`")]
    Untyped,
    #[error("malformed `{0}` message")]
    Malformed(String),
    #[error("more than {0} frames per second")]
    FramesTooFast(NonZeroU32),
    #[error("more than {0} user messages per second")]
    MessagesTooFast(NonZeroU32),
    #[error("more than {0} user messages in one call")]
    TooManyMessages(u32),
}

impl Violation {
    /// ElevenLabs' `error_type` for it.
    fn error_type(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "message_too_big",
            Self::FramesTooFast(_) | Self::MessagesTooFast(_) => "rate_limit_exceeded",
            Self::TooManyMessages(_) => "message_limit_exceeded",
            _ => "invalid_message",
        }
    }

    /// The close the client gets: its code, and `error_type: detail` as the reason.
    pub fn close(&self) -> Close {
        let code = match self {
            Self::TooLarge { .. } => MESSAGE_TOO_BIG,
            Self::Binary => bus::close::UNSUPPORTED_DATA,
            _ => POLICY,
        };
        Close::new(code, format!("{}: {self}", self.error_type()))
    }

    /// The `error` event sent just before the close, as ElevenLabs does.
    pub fn error_event(&self) -> String {
        json!({
            "type": "error",
            "error_event": {
                "code": self.close().sendable_code(),
                "error_type": self.error_type(),
                "message": self.to_string(),
            }
        })
        .to_string()
    }
}

/// One call's running counts against its bounds.
pub struct Guard {
    bounds: Bounds,
    frames: DefaultDirectRateLimiter,
    messages: DefaultDirectRateLimiter,
    user_messages: u32,
}

impl Guard {
    pub fn new(bounds: Bounds) -> Self {
        let frame_burst = bounds.frames_per_sec.saturating_mul(TWO);
        Self {
            bounds,
            frames: RateLimiter::direct(
                Quota::per_second(bounds.frames_per_sec).allow_burst(frame_burst),
            ),
            messages: RateLimiter::direct(
                Quota::per_second(bounds.user_messages_per_sec)
                    .allow_burst(bounds.user_message_burst),
            ),
            user_messages: 0,
        }
    }

    /// Checks one client text frame; `Ok` means relay it as is.
    pub fn check(&mut self, text: &str) -> Result<(), Violation> {
        if text.len() > self.bounds.max_frame_bytes {
            return Err(Violation::TooLarge {
                limit: self.bounds.max_frame_bytes,
            });
        }
        if self.frames.check().is_err() {
            return Err(Violation::FramesTooFast(self.bounds.frames_per_sec));
        }
        let message = ClientMessage::parse(text).map_err(|e| match e {
            ParseError::Body { message_type, .. } => Violation::Malformed(message_type),
            _ => Violation::NotJson,
        })?;
        match message {
            ClientMessage::Other(raw) => Err(match raw.get("type").and_then(|t| t.as_str()) {
                Some(kind) => Violation::UnknownType(kind.chars().take(64).collect()),
                None => Violation::Untyped,
            }),
            ClientMessage::UserMessage(_)
            | ClientMessage::ContextualUpdate(_)
            | ClientMessage::MultimodalMessage(_) => self.count_user_message(),
            _ => Ok(()),
        }
    }

    fn count_user_message(&mut self) -> Result<(), Violation> {
        if self.user_messages >= self.bounds.user_messages_per_call {
            return Err(Violation::TooManyMessages(
                self.bounds.user_messages_per_call,
            ));
        }
        if self.messages.check().is_err() {
            return Err(Violation::MessagesTooFast(
                self.bounds.user_messages_per_sec,
            ));
        }
        self.user_messages += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        json!({"type": "user_message", "text": text}).to_string()
    }

    #[test]
    fn protocol_frames_pass_and_everything_else_is_named() {
        let mut guard = Guard::new(Bounds::default());
        assert_eq!(guard.check(r#"{"user_audio_chunk":"AAAA"}"#), Ok(()));
        assert_eq!(guard.check(r#"{"type":"pong","event_id":3}"#), Ok(()));
        assert_eq!(guard.check("not json"), Err(Violation::NotJson));
        assert_eq!(guard.check("[1,2]"), Err(Violation::NotJson));
        assert_eq!(
            guard.check(r#"{"type":"shout"}"#),
            Err(Violation::UnknownType("shout".into()))
        );
        assert_eq!(guard.check(r#"{"text":"hi"}"#), Err(Violation::Untyped));
        assert_eq!(
            guard.check(r#"{"type":"pong","event_id":"x"}"#),
            Err(Violation::Malformed("pong".into()))
        );
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_with_1009() {
        let bounds = Bounds {
            max_frame_bytes: 64,
            ..Bounds::default()
        };
        let mut guard = Guard::new(bounds);
        let big = message(&"x".repeat(100));
        let violation = guard.check(&big).expect_err("too large");
        assert_eq!(violation.close().code, MESSAGE_TOO_BIG);
        assert!(violation.close().reason.starts_with("message_too_big:"));
    }

    #[test]
    fn a_flood_is_cut_after_the_burst_with_an_error_event_and_1008() {
        let mut guard = Guard::new(Bounds::default());
        let passed = (0..1_000)
            .map(|i| guard.check(&message(&i.to_string())))
            .take_while(Result::is_ok)
            .count();
        // The burst, plus at most what the rate refills while the loop runs.
        assert!((20..=23).contains(&passed), "{passed}");
        let violation = guard.check(&message("more")).expect_err("flood");
        assert_eq!(violation.close().code, POLICY);
        let event: serde_json::Value =
            serde_json::from_str(&violation.error_event()).expect("json");
        assert_eq!(event["error_event"]["error_type"], "rate_limit_exceeded");
        assert_eq!(event["error_event"]["code"], 1008);
    }

    #[test]
    fn a_call_holds_at_most_its_messages() {
        let bounds = Bounds {
            user_messages_per_call: 3,
            user_message_burst: NonZeroU32::new(100).expect("nonzero"),
            ..Bounds::default()
        };
        let mut guard = Guard::new(bounds);
        for i in 0..3 {
            assert_eq!(guard.check(&message(&i.to_string())), Ok(()));
        }
        assert_eq!(
            guard.check(&message("4")),
            Err(Violation::TooManyMessages(3))
        );
    }
}
