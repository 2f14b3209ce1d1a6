//! Event envelopes as read off the log: the bytes are one message.

use events::{ConversationEvent, DomainEvent, Envelope, LedgerEvent, RawEnvelope};

/// Any bytes decode to an envelope or an error, never a panic, in either
/// event family; whatever decodes (upcast or not) encodes at the current
/// schema to bytes that decode to the same event.
pub fn event_envelope(data: &[u8]) {
    let _ = RawEnvelope::from_json(data);
    decodes_stably::<ConversationEvent>(data);
    decodes_stably::<LedgerEvent>(data);
}

fn decodes_stably<E: DomainEvent + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(envelope) = Envelope::<E>::from_json(data) {
        let encoded = envelope.to_json();
        assert_eq!(
            Envelope::<E>::from_json(&encoded).ok(),
            Some(envelope),
            "encoded: {}",
            String::from_utf8_lossy(&encoded)
        );
    }
}
