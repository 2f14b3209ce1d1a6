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
        // Holds and releases reserve credits; they are no part of the cost.
        LedgerEvent::AccountOpened(_)
        | LedgerEvent::CreditsGranted(_)
        | LedgerEvent::CreditsHeld(_)
        | LedgerEvent::HoldReleased(_)
        | LedgerEvent::CreditsExpired(_)
        | LedgerEvent::CreditsCorrected(_)
        | LedgerEvent::CallPricedPerMessage(_) => None,
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
        LedgerEvent::AccountOpened(_)
        | LedgerEvent::CreditsGranted(_)
        | LedgerEvent::CreditsHeld(_)
        | LedgerEvent::HoldReleased(_)
        | LedgerEvent::CreditsExpired(_)
        | LedgerEvent::CreditsCorrected(_)
        | LedgerEvent::CallPricedPerMessage(_) => return false,
    }
    true
}
