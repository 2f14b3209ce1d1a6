//! Ledger events: each is a balanced set of postings (DESIGN §4), on subject
//! `ledger.<account_id>` of the user account it concerns.

use serde::{Deserialize, Serialize};

use crate::credits::{Credits, Posting};
use crate::envelope::{DomainEvent, EventTypes};
use crate::error::DecodeError;
use crate::ids::{AccountId, ConversationId};

/// Everything that moves or reserves credits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum LedgerEvent {
    #[serde(rename = "account.opened")]
    AccountOpened(AccountOpened),
    #[serde(rename = "credits.granted")]
    CreditsGranted(CreditsGranted),
    #[serde(rename = "credits.held")]
    CreditsHeld(CreditsHeld),
    #[serde(rename = "hold.captured")]
    HoldCaptured(HoldCaptured),
    #[serde(rename = "hold.released")]
    HoldReleased(HoldReleased),
    #[serde(rename = "usage.charged")]
    UsageCharged(UsageCharged),
    #[serde(rename = "charge.adjusted")]
    ChargeAdjusted(ChargeAdjusted),
}

/// An account came into being; it moves nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountOpened {
    pub account: AccountId,
}

/// Credits given to a user (purchase, promotion, demo).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditsGranted {
    pub credits: Credits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub postings: Vec<Posting>,
}

/// Credits reserved for a conversation about to start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditsHeld {
    pub conversation_id: ConversationId,
    pub credits: Credits,
    pub postings: Vec<Posting>,
}

/// Part of a hold turned into the conversation's charge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoldCaptured {
    pub conversation_id: ConversationId,
    pub credits: Credits,
    pub postings: Vec<Posting>,
}

/// What was held and not captured, back to the user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoldReleased {
    pub conversation_id: ConversationId,
    pub credits: Credits,
    pub postings: Vec<Posting>,
}

/// The duration-based charge of a finished conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageCharged {
    pub conversation_id: ConversationId,
    pub credits: Credits,
    pub duration_ms: u64,
    pub postings: Vec<Posting>,
}

/// The correction from the estimate to ElevenLabs' reported cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChargeAdjusted {
    pub conversation_id: ConversationId,
    pub estimated: Credits,
    pub actual: Credits,
    pub postings: Vec<Posting>,
}

const TYPES: EventTypes = &[
    ("account.opened", 1),
    ("credits.granted", 1),
    ("credits.held", 1),
    ("hold.captured", 1),
    ("hold.released", 1),
    ("usage.charged", 1),
    ("charge.adjusted", 1),
];

impl LedgerEvent {
    /// The postings this event makes (none for `account.opened`).
    pub fn postings(&self) -> &[Posting] {
        match self {
            Self::AccountOpened(_) => &[],
            Self::CreditsGranted(e) => &e.postings,
            Self::CreditsHeld(e) => &e.postings,
            Self::HoldCaptured(e) => &e.postings,
            Self::HoldReleased(e) => &e.postings,
            Self::UsageCharged(e) => &e.postings,
            Self::ChargeAdjusted(e) => &e.postings,
        }
    }

    /// Double entry: the postings of one event sum to zero.
    pub fn is_balanced(&self) -> bool {
        self.postings().iter().map(|p| p.credits).sum::<Credits>() == Credits::ZERO
    }
}

impl DomainEvent for LedgerEvent {
    fn types() -> EventTypes {
        TYPES
    }

    fn from_data(
        event_type: &str,
        schema: u32,
        data: serde_json::Value,
    ) -> Result<Self, DecodeError> {
        let event: Self = crate::envelope::decode_adjacent(TYPES, event_type, schema, data)?;
        if !event.is_balanced() {
            return Err(DecodeError::Unbalanced {
                event_type: event_type.to_owned(),
                schema,
            });
        }
        Ok(event)
    }
}
