//! Ledger events: each is a balanced set of postings (DESIGN §4), on subject
//! `ledger.<account_id>` of the user account it concerns.

use serde::{Deserialize, Serialize};

use crate::credits::{Credits, Posting};
use crate::envelope::{DomainEvent, EventTypes};
use crate::error::DecodeError;
use crate::ids::{AccountId, ConversationId, EventId};

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
    #[serde(rename = "credits.expired")]
    CreditsExpired(CreditsExpired),
    #[serde(rename = "credits.corrected")]
    CreditsCorrected(CreditsCorrected),
    #[serde(rename = "call.priced_per_message")]
    CallPricedPerMessage(CallPricedPerMessage),
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
    /// When what is left of this grant expires; never when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What was left of an expiring grant went back to the grants account.
/// `grant_id` names the grant that ran out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditsExpired {
    pub grant_id: EventId,
    pub credits: Credits,
    pub postings: Vec<Posting>,
}

/// A text-only call (no audio) is charged per message, not per minute,
/// at this rate; it moves nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallPricedPerMessage {
    pub conversation_id: ConversationId,
    pub credits_per_message: u32,
}

/// A manual correction, either sign, against the adjustments account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditsCorrected {
    pub credits: Credits,
    pub reason: String,
    pub actor: String,
    pub postings: Vec<Posting>,
}

/// Credits reserved for a conversation: period 0 when it is about to
/// start, then one more period each time the running call's hold is
/// extended (`cmd.ledger.extend`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditsHeld {
    pub conversation_id: ConversationId,
    pub credits: Credits,
    pub postings: Vec<Posting>,
    /// 0: the start hold; n: the n-th extension.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub period: u32,
    /// Call time from the start that everything held so far covers;
    /// absent on holds from before extensions existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers_ms: Option<u64>,
    /// The rate the hold was priced at, which the call keeps to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_per_minute: Option<u32>,
}

fn is_zero(period: &u32) -> bool {
    *period == 0
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
    #[serde(default, skip_serializing_if = "ReleaseReason::is_settled")]
    pub reason: ReleaseReason,
}

/// Why a hold went back to the user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// The call was charged; this is what it did not use.
    #[default]
    Settled,
    /// Neither an end nor an extension came within the hold's TTL.
    Expired,
}

impl ReleaseReason {
    pub fn is_settled(&self) -> bool {
        *self == Self::Settled
    }
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
    /// What the correction is based on and what is wrong with it; absent
    /// from adjustments booked before these were recorded.
    #[serde(flatten)]
    pub detail: AdjustmentDetail,
}

/// Where an adjustment comes from, kept with it for finance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentDetail {
    /// The ledger event that charged the estimate this corrects (the
    /// capture, or the usage charge of a call without a hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<EventId>,
    /// The call time the report bills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_duration_ms: Option<u64>,
    /// ElevenLabs' split of the actual cost (`charging.call_charge`,
    /// `charging.llm_charge`), when it reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_credits: Option<Credits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_credits: Option<Credits>,
    /// What finance must look at; the report is booked in full regardless.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<ChargeFlag>,
}

/// Why a booked cost needs a second look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChargeFlag {
    /// ElevenLabs reported more than was ever held for the call; the
    /// excess came out of the user's available credits.
    ExceedsHold { held: Credits, excess: Credits },
    /// The report implies a cost per minute far above the rate the call
    /// was priced at.
    AboveRateCard {
        reported_per_minute: Credits,
        rate_per_minute: u32,
    },
    /// The report came for a call the ledger had neither held nor charged.
    UnknownConversation,
}

const TYPES: EventTypes = &[
    ("account.opened", 1),
    ("credits.granted", 1),
    ("credits.held", 1),
    ("hold.captured", 1),
    ("hold.released", 1),
    ("usage.charged", 1),
    ("charge.adjusted", 1),
    ("credits.expired", 1),
    ("credits.corrected", 1),
    ("call.priced_per_message", 1),
];

impl LedgerEvent {
    /// The postings this event makes (none for `account.opened` and
    /// `call.priced_per_message`).
    pub fn postings(&self) -> &[Posting] {
        match self {
            Self::AccountOpened(_) | Self::CallPricedPerMessage(_) => &[],
            Self::CreditsGranted(e) => &e.postings,
            Self::CreditsHeld(e) => &e.postings,
            Self::HoldCaptured(e) => &e.postings,
            Self::HoldReleased(e) => &e.postings,
            Self::UsageCharged(e) => &e.postings,
            Self::ChargeAdjusted(e) => &e.postings,
            Self::CreditsExpired(e) => &e.postings,
            Self::CreditsCorrected(e) => &e.postings,
        }
    }

    /// Double entry: the postings of one event sum to zero.
    pub fn is_balanced(&self) -> bool {
        self.postings().iter().map(|p| p.credits).sum::<Credits>() == Credits::ZERO
    }
}

/// `event`, refused when its postings do not balance.
fn balanced(event: LedgerEvent, event_type: &str, schema: u32) -> Result<LedgerEvent, DecodeError> {
    if event.is_balanced() {
        Ok(event)
    } else {
        Err(DecodeError::Unbalanced {
            event_type: event_type.to_owned(),
            schema,
        })
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
        balanced(
            crate::envelope::decode_adjacent(TYPES, event_type, schema, data)?,
            event_type,
            schema,
        )
    }

    fn from_json_data(
        event_type: &str,
        schema: u32,
        data: &serde_json::value::RawValue,
    ) -> Result<Self, DecodeError> {
        balanced(
            crate::envelope::decode_adjacent_json(TYPES, event_type, schema, data)?,
            event_type,
            schema,
        )
    }
}
