//! ElevenLabs conversation frames: the bytes are the text of one WebSocket
//! message (invalid UTF-8 replaced, as a text frame never carries it).

use elevenlabs::{ClientMessage, ServerEvent};
use serde_json::Value;

/// A client frame (what the gateway relays from a browser) never panics the
/// parser, and one that parses prints and parses back to the same message.
pub fn elevenlabs_client_message(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(message) = ClientMessage::parse(&text) {
        let printed = message.to_json();
        assert_eq!(
            ClientMessage::parse(&printed).ok(),
            Some(message),
            "printed: {printed}"
        );
    }
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        let _ = ClientMessage::from_value(value);
    }
}

/// A server frame (what ElevenLabs or the simulator sends) never panics the
/// parser, and one that parses prints and parses back to the same event.
pub fn elevenlabs_server_message(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(event) = ServerEvent::parse(&text) {
        let printed = event.to_json();
        assert_eq!(
            ServerEvent::parse(&printed).ok(),
            Some(event),
            "printed: {printed}"
        );
    }
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        let _ = ServerEvent::from_value(value);
    }
}
