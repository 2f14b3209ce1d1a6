//! Ledger events → what a conversation costs. The charge is what was
//! captured from the hold plus any excess charged; once ElevenLabs' figure
//! is known, `charge.adjusted` carries the actual cost, which then stands.

use events::{AccountId, ConversationId, Envelope, LedgerEvent, UserId};

use crate::document::ConversationDoc;

/// The conversation whose cost a ledger event changes, if any.
pub fn conversation_of(event: &LedgerEvent) -> Option<ConversationId> {
    match event {
        LedgerEvent::HoldCaptured(e) => Some(e.conversation_id),
        LedgerEvent::UsageCharged(e) => Some(e.conversation_id),
        LedgerEvent::ChargeAdjusted(e) => Some(e.conversation_id),
        // Holds, releases and grants reserve or move credits outside a
        // conversation's cost; so do ledger types added later, whose
        // postings the account projection reads generically.
        _ => None,
    }
}

/// The user a ledger event concerns: from the envelope, else from its
/// account subject (`ledger.user-<hex>`).
pub fn user_of(envelope: &Envelope<LedgerEvent>) -> Option<UserId> {
    envelope
        .meta
        .user_id
        .or_else(|| match envelope.meta.aggregate_id.parse::<AccountId>() {
            Ok(AccountId::User(user)) => Some(user),
            _ => None,
        })
}

/// Records the event's credits; false when it does not bear on the cost.
pub(super) fn apply(doc: &mut ConversationDoc, event: &LedgerEvent) -> bool {
    let book = &mut doc.projection;
    match event {
        LedgerEvent::HoldCaptured(e) => {
            book.charged_credits = book.charged_credits.saturating_add(e.credits.get());
        }
        LedgerEvent::UsageCharged(e) => {
            book.charged_credits = book.charged_credits.saturating_add(e.credits.get());
        }
        LedgerEvent::ChargeAdjusted(e) => book.actual_credits = Some(e.actual.get()),
        _ => return false,
    }
    true
}
