//! Closes between the client WebSocket and the bus's `Close`.

use axum::extract::ws::CloseFrame;
use bus::Close;
use bus::close::NORMAL;

/// What a client's close frame means; a frame without a status is a plain
/// normal close.
pub fn from_client(frame: Option<CloseFrame>) -> Close {
    frame.map_or(Close::new(NORMAL, ""), |frame| {
        Close::new(frame.code, frame.reason.as_str())
    })
}

/// The frame for the client: a sendable code, the reason cut to fit.
pub fn frame(close: &Close) -> CloseFrame {
    CloseFrame {
        code: close.sendable_code(),
        reason: close.sendable_reason().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_close_without_status_is_normal() {
        assert_eq!(from_client(None), Close::new(NORMAL, ""));
    }
}
