//! Event envelopes as read off the log: the bytes are one message.

use events::{ConversationEvent, DomainEvent, Envelope, LedgerEvent, RawEnvelope};

/// Any bytes decode to an envelope or an error, never a panic, in either
/// event family, and to the same one whether the payload is read straight
/// into the event or through a JSON value; whatever decodes (upcast or not)
/// encodes at the current schema to bytes that decode to the same event.
pub fn event_envelope(data: &[u8]) {
    let _ = RawEnvelope::from_json(data);
    decodes_stably::<ConversationEvent>(data);
    decodes_stably::<LedgerEvent>(data);
}

fn decodes_stably<E: DomainEvent + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let decoded = Envelope::<E>::from_json(data).ok();
    let through_value = RawEnvelope::from_json(data)
        .and_then(RawEnvelope::into_typed)
        .ok();
    assert_eq!(decoded, through_value, "read straight and through a value");
    if let Some(envelope) = decoded {
        let encoded = envelope.to_json();
        assert_eq!(
            Envelope::<E>::from_json(&encoded).ok(),
            Some(envelope),
            "encoded: {}",
            String::from_utf8_lossy(&encoded)
        );
    }
}
