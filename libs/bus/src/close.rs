//! WebSocket close codes (RFC 6455 §7.4) as both ends of a live call use
//! them, and one direction's end: a code and a reason.

pub const NORMAL: u16 = 1000;
pub const GOING_AWAY: u16 = 1001;
pub const UNSUPPORTED_DATA: u16 = 1003;
/// Never sent in a frame: "the peer vanished without a close frame".
pub const ABNORMAL: u16 = 1006;
pub const POLICY: u16 = 1008;
pub const MESSAGE_TOO_BIG: u16 = 1009;
pub const INTERNAL: u16 = 1011;
pub const TRY_AGAIN_LATER: u16 = 1013;

/// A close frame's payload leaves 123 bytes for the reason (RFC 6455 §5.5).
pub const MAX_REASON_BYTES: usize = 123;

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

    /// The code a peer may put in a close frame: 1005 "no status" becomes
    /// 1000, 1006 and other unsendable codes become 1011.
    pub fn sendable_code(&self) -> u16 {
        match self.code {
            1000..=1003 | 1007..=1014 | 3000..=4999 => self.code,
            1005 => NORMAL,
            _ => INTERNAL,
        }
    }

    /// The reason cut to fit a close frame, on a char boundary.
    pub fn sendable_reason(&self) -> &str {
        truncate(&self.reason, MAX_REASON_BYTES)
    }
}

/// The longest prefix of `text` within `max` bytes, cut on a char boundary.
pub fn truncate(text: &str, max: usize) -> &str {
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
    fn frames_carry_only_sendable_codes() {
        for (given, sent) in [
            (1000, 1000),
            (1001, 1001),
            (1005, 1000),
            (1006, 1011),
            (1009, 1009),
            (1015, 1011),
            (999, 1011),
            (2000, 1011),
            (4001, 4001),
            (1013, 1013),
        ] {
            assert_eq!(Close::new(given, "r").sendable_code(), sent, "{given}");
        }
    }

    #[test]
    fn reasons_are_cut_to_123_bytes_on_a_char_boundary() {
        let long = "é".repeat(100);
        assert_eq!(Close::new(POLICY, long).sendable_reason().len(), 122);
        assert_eq!(truncate("short", 123), "short");
    }
}
