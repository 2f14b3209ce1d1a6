//! Close codes and reasons, on the client WebSocket and on the live subjects
//! (a message with the `Parlor-Close-Code` header, its body the reason).

use async_nats::HeaderMap;
use axum::extract::ws::CloseFrame;
use events::command::live::CLOSE_CODE_HEADER;

pub const NORMAL: u16 = 1000;
pub const GOING_AWAY: u16 = 1001;
pub const UNSUPPORTED_DATA: u16 = 1003;
/// Never sent in a frame: "the peer vanished without a close frame".
pub const ABNORMAL: u16 = 1006;
pub const POLICY: u16 = 1008;
pub const INTERNAL: u16 = 1011;

/// A close frame's payload leaves 123 bytes for the reason (RFC 6455 §5.5).
const MAX_REASON_BYTES: usize = 123;

/// One direction's end: a code and a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// What a client's close frame means; a frame without a status is a
    /// plain normal close.
    pub fn from_client(frame: Option<CloseFrame>) -> Self {
        frame.map_or(Self::new(NORMAL, ""), |frame| {
            Self::new(frame.code, frame.reason.as_str())
        })
    }

    /// The close a live-subject message carries, if it is one. A code that
    /// is not a number is the session's fault: it becomes 1011.
    pub fn from_message(message: &async_nats::Message) -> Option<Self> {
        let code = message.headers.as_ref()?.get(CLOSE_CODE_HEADER)?;
        Some(Self::new(
            code.as_str().trim().parse().unwrap_or(INTERNAL),
            String::from_utf8_lossy(&message.payload),
        ))
    }

    /// The headers that make a live-subject message this close.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CLOSE_CODE_HEADER, self.code.to_string().as_str());
        headers
    }

    /// The frame for the client: a code a peer may send (1005 "no status"
    /// becomes 1000, 1006 and other unsendable codes become 1011), the
    /// reason cut to fit.
    pub fn frame(&self) -> CloseFrame {
        let code = match self.code {
            1000..=1003 | 1007..=1014 | 3000..=4999 => self.code,
            1005 => NORMAL,
            _ => INTERNAL,
        };
        CloseFrame {
            code,
            reason: truncate(&self.reason, MAX_REASON_BYTES).into(),
        }
    }
}

/// The longest prefix of `text` within `max` bytes, cut on a char boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_carry_only_sendable_codes() {
        for (given, sent) in [
            (1000, 1000),
            (1001, 1001),
            (1005, 1000),
            (1006, 1011),
            (1015, 1011),
            (999, 1011),
            (2000, 1011),
            (4001, 4001),
            (1013, 1013),
        ] {
            assert_eq!(Close::new(given, "r").frame().code, sent, "{given}");
        }
    }

    #[test]
    fn reasons_are_cut_to_123_bytes_on_a_char_boundary() {
        let long = "é".repeat(100);
        let reason = Close::new(POLICY, long).frame().reason;
        assert_eq!(reason.as_str().len(), 122);
        assert_eq!(truncate("short", 123), "short");
    }

    #[test]
    fn a_client_close_without_status_is_normal() {
        assert_eq!(Close::from_client(None), Close::new(NORMAL, ""));
    }
}
