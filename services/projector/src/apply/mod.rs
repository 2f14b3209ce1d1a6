//! Events → document changes, pure: given the document as stored (or a new
//! one) and an event with its stream sequence, change the document in
//! memory. Every change is guarded by the stream sequence the document last
//! applied, so a redelivered or replayed event changes nothing. Derived
//! fields are left to [`ConversationDoc::derive`], which the caller runs once
//! after a run of events (a batch), not once per event.

mod conversation;
mod ledger;

use chrono::{DateTime as ChronoTime, Utc};
use events::{ConversationEvent, ConversationId, Envelope, LedgerEvent, UserId};
use mongodb::bson::DateTime;

use crate::document::{ConversationDoc, saturating_i64};

pub use ledger::{conversation_of, user_of};

/// Which document a conversation event is about, and who it belongs to.
pub fn conversation_target(envelope: &Envelope<ConversationEvent>) -> Option<ConversationId> {
    envelope.meta.aggregate_id.parse().ok()
}

/// A fresh document for the first event about `id`.
pub fn new_document(
    id: ConversationId,
    user: Option<UserId>,
    occurred_at: ChronoTime<Utc>,
) -> ConversationDoc {
    ConversationDoc::new(id, user, bson_time(occurred_at))
}

/// Applies a CONVERSATIONS event stored at `sequence`; false (and `doc`
/// untouched) when the document has already applied it or a later one.
pub fn conversation_event(
    doc: &mut ConversationDoc,
    sequence: u64,
    envelope: &Envelope<ConversationEvent>,
) -> bool {
    let sequence = saturating_i64(sequence);
    if sequence <= doc.projection.conversation_seq {
        return false;
    }
    doc.projection.conversation_seq = sequence;
    doc.identify(envelope.meta.user_id, envelope.meta.agent_id.as_ref());
    let at = bson_time(envelope.meta.occurred_at);
    let was_over = doc.is_over();
    conversation::apply(doc, at, &envelope.event);
    // Like Prisma's `@updatedAt` while the call runs, then fixed at its end.
    if !was_over {
        doc.ended_at = at;
    }
    true
}

/// Applies a LEDGER event stored at `sequence`; false when already applied
/// or when it does not change what the conversation costs.
pub fn ledger_event(
    doc: &mut ConversationDoc,
    sequence: u64,
    envelope: &Envelope<LedgerEvent>,
) -> bool {
    let sequence = saturating_i64(sequence);
    if sequence <= doc.projection.ledger_seq {
        return false;
    }
    if !ledger::apply(doc, &envelope.event) {
        return false;
    }
    doc.projection.ledger_seq = sequence;
    doc.identify(user_of(envelope), None);
    true
}

/// An event's time as a BSON date (milliseconds, as events are written).
pub fn bson_time(at: ChronoTime<Utc>) -> DateTime {
    DateTime::from_millis(at.timestamp_millis())
}

#[cfg(test)]
mod tests;
