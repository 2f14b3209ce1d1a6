//! The ledger's commands and the one pure function that turns a command and
//! the current state into the events to append, or a refusal. It only
//! dispatches; each command's rules live in its own module.

use chrono::{DateTime, Utc};
use events::command::{Refusal, RefusalCode};
use events::ledger::{AccountOpened, LedgerEvent};
use events::{AccountId, ConversationId, Credits, EventId, UserId};

use crate::account::{Account, State};
use crate::correct::{self, Correction};
use crate::pricing::{MAX_CREDITS, Pricing};
use crate::{adjust, charge, expiry, extend, grant, hold, text_only};

/// Something that may move a user's credits.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Reserve credits before a call starts (`cmd.ledger.hold`).
    /// `rate`: credits per minute for this call; the default rate when `None`.
    Hold {
        user: UserId,
        conversation: ConversationId,
        rate: Option<u32>,
    },
    /// Hold one more period of a running call (`cmd.ledger.extend`).
    Extend {
        user: UserId,
        conversation: ConversationId,
        period: u32,
    },
    /// Give back a hold whose TTL has run out at `now` (the ledger's timer).
    Expire {
        user: UserId,
        conversation: ConversationId,
        now: DateTime<Utc>,
    },
    /// Give a user credits (`cmd.ledger.grant`, `grant_expiring`);
    /// `grant_id` becomes the event id.
    Grant {
        user: UserId,
        grant_id: EventId,
        credits: Credits,
        reason: Option<String>,
        expires_at: Option<DateTime<Utc>>,
    },
    /// End what is left of an expiring grant whose time came (the timer).
    ExpireGrant {
        user: UserId,
        grant_id: EventId,
        now: DateTime<Utc>,
    },
    /// A manual correction (`cmd.ledger.correct`); its id becomes the event id.
    Correct {
        user: UserId,
        correction: Correction,
    },
    /// Charge a finished call's duration estimate and release the rest of its hold.
    /// `rate`: the rate in effect for the call, if it was never held;
    /// `messages`: how many it had, for a call priced per message.
    Charge {
        user: UserId,
        conversation: ConversationId,
        duration_ms: u64,
        rate: Option<u32>,
        messages: Option<u32>,
    },
    /// The call turned out text-only: charge it per message.
    PricePerMessage {
        user: UserId,
        conversation: ConversationId,
        credits_per_message: u32,
    },
    /// Bring a call's charge to ElevenLabs' reported figure.
    /// `call_credits`/`llm_credits`: ElevenLabs' split of `actual`, if reported.
    Adjust {
        user: UserId,
        conversation: ConversationId,
        actual: Credits,
        call_duration_ms: u64,
        call_credits: Option<Credits>,
        llm_credits: Option<Credits>,
        rate: Option<u32>,
    },
}

impl Command {
    /// The user whose account (the aggregate) the command appends to.
    pub fn user(&self) -> UserId {
        match self {
            Self::Hold { user, .. }
            | Self::Extend { user, .. }
            | Self::Expire { user, .. }
            | Self::Grant { user, .. }
            | Self::ExpireGrant { user, .. }
            | Self::Correct { user, .. }
            | Self::Charge { user, .. }
            | Self::PricePerMessage { user, .. }
            | Self::Adjust { user, .. } => *user,
        }
    }
}

/// The events `command` produces on `state`, every one balanced; an empty
/// list when it was already done (a retry, a redelivery, a replay).
pub fn decide(
    state: &State,
    pricing: &Pricing,
    command: &Command,
) -> Result<Vec<LedgerEvent>, Refusal> {
    let empty = Account::default();
    let account = state
        .account(AccountId::User(command.user()))
        .unwrap_or(&empty);
    let mut events = match command {
        Command::Hold {
            conversation,
            user,
            rate,
        } => hold::decide(
            account,
            pricing,
            *user,
            *conversation,
            rate.unwrap_or(pricing.credits_per_minute),
        )?,
        Command::Extend {
            conversation,
            user,
            period,
        } => extend::decide(account, pricing, *user, *conversation, *period)?,
        Command::Expire {
            conversation,
            user,
            now,
        } => expiry::decide(account, pricing, *user, *conversation, *now),
        Command::Grant {
            grant_id,
            credits,
            reason,
            user,
            expires_at,
        } => grant::decide(
            account,
            *user,
            *grant_id,
            *credits,
            reason.clone(),
            *expires_at,
        )?,
        Command::ExpireGrant {
            user,
            grant_id,
            now,
        } => grant::expire(account, *user, *grant_id, *now),
        Command::Correct { user, correction } => correct::decide(account, *user, correction)?,
        Command::Charge {
            conversation,
            duration_ms,
            user,
            rate,
            messages,
        } => charge::decide(
            account,
            pricing,
            *user,
            *conversation,
            charge::Usage {
                duration_ms: *duration_ms,
                rate: *rate,
                messages: *messages,
            },
        ),
        Command::PricePerMessage {
            conversation,
            credits_per_message,
            ..
        } => text_only::decide(account, *conversation, *credits_per_message),
        Command::Adjust {
            conversation,
            actual,
            call_duration_ms,
            user,
            call_credits,
            llm_credits,
            rate,
        } => adjust::decide(
            account,
            pricing,
            *user,
            *conversation,
            adjust::Report {
                actual: *actual,
                call_duration_ms: *call_duration_ms,
                call_credits: *call_credits,
                llm_credits: *llm_credits,
                rate: *rate,
            },
        )?,
    };
    if !account.opened && !events.is_empty() {
        let opened = LedgerEvent::AccountOpened(AccountOpened {
            account: AccountId::User(command.user()),
        });
        events.insert(0, opened);
    }
    for event in &events {
        assert!(
            event.is_balanced(),
            "decided an unbalanced event: {event:?}"
        );
    }
    Ok(events)
}

/// `credits` is an amount the ledger may book (`0..=MAX_CREDITS`).
pub(crate) fn bookable(credits: Credits, what: &str) -> Result<Credits, Refusal> {
    if credits.is_negative() || credits > MAX_CREDITS {
        return Err(Refusal::new(
            RefusalCode::InvalidRequest,
            format!(
                "{what} must be between 0 and {}, not {}",
                MAX_CREDITS.get(),
                credits.get()
            ),
        ));
    }
    Ok(credits)
}
