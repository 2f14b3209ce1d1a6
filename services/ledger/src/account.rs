//! The ledger's state: every account's balance, and for each user account
//! its version on the log, the grants it received and the money of each of
//! its conversations. Built only by [`State::apply`], which cannot fail.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use events::command::Balance;
use events::ledger::{LedgerEvent, ReleaseReason};
use events::{AccountId, ConversationId, Credits, Envelope, EventId, UserId};

/// One account, user or system.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Account {
    pub opened: bool,
    /// The sum of every posting to this account; for a user, what they can spend.
    pub balance: Credits,
    /// Credits of this user's conversations still on hold.
    pub held: Credits,
    /// Stream sequence of this account's last event on `ledger.<account>`:
    /// what the next append expects.
    pub version: u64,
    /// `grant_id`s already booked (a grant's event id is its `grant_id`).
    pub grants: HashSet<EventId>,
    /// Grants that expire and have not yet: their expiry and size.
    pub expiring: HashMap<EventId, ExpiringGrant>,
    /// `correction_id`s already booked (a correction's event id).
    pub corrections: HashSet<EventId>,
    pub conversations: HashMap<ConversationId, ConversationMoney>,
}

/// What the ledger booked for one conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConversationMoney {
    /// Everything held for the call, start hold and extensions; `None`:
    /// charged without a hold.
    pub hold: Option<Credits>,
    /// The last period held (0: only the start hold).
    pub period: u32,
    /// Call time from the start that the holds cover.
    pub covers_ms: u64,
    /// The rate the call was priced at when it was held.
    pub rate: Option<u32>,
    /// The last hold or extension: when, and which event (the cause of an expiry).
    pub last_hold: Option<HoldMark>,
    /// The hold ran out its TTL and went back to the user.
    pub expired: bool,
    /// The event that charged the estimate (what an adjustment corrects).
    pub charge_event: Option<EventId>,
    /// A text-only call: charged at this many credits per message.
    pub per_message: Option<u32>,
    /// Of the hold, what is neither captured nor released yet.
    pub hold_open: Credits,
    pub captured: Option<Credits>,
    pub usage: Option<Credits>,
    /// ElevenLabs' figure, once the charge was adjusted to it.
    pub adjusted: Option<Credits>,
}

/// A grant that has an expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiringGrant {
    pub expires_at: DateTime<Utc>,
    /// What is left of it, unspent.
    pub credits: Credits,
}

impl Account {
    /// Takes `credits` spent for good out of the expiring grants, those
    /// expiring soonest first (ties by grant id, so every copy agrees).
    fn spend(&mut self, credits: Credits) {
        let mut order: Vec<_> = self
            .expiring
            .iter()
            .map(|(id, g)| (g.expires_at, *id))
            .collect();
        order.sort_unstable();
        let mut left = credits;
        for (_, id) in order {
            if left <= Credits::ZERO {
                break;
            }
            if let Some(grant) = self.expiring.get_mut(&id) {
                let taken = grant.credits.min(left);
                grant.credits = grant.credits - taken;
                left = left - taken;
            }
        }
    }
}

/// When a hold was placed or extended, and by which event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoldMark {
    pub at: DateTime<Utc>,
    pub event: EventId,
}

impl ConversationMoney {
    /// The duration estimate has been charged (or superseded by the actual cost).
    pub fn is_charged(&self) -> bool {
        let estimate_booked = match self.hold {
            // The capture comes last of the charge's events, so it marks the
            // charge as complete even when the excess came before it.
            Some(_) => self.captured.is_some(),
            None => self.usage.is_some(),
        };
        estimate_booked || self.adjusted.is_some()
    }

    /// What the duration estimate charged.
    pub fn estimated(&self) -> Credits {
        self.captured.unwrap_or_default() + self.usage.unwrap_or_default()
    }
}

/// Every account the ledger knows.
#[derive(Clone, Debug, Default)]
pub struct State {
    accounts: HashMap<AccountId, Account>,
}

impl State {
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }

    /// A user's account; an empty one when they have none yet.
    pub fn user(&self, user: UserId) -> Account {
        self.account(AccountId::User(user))
            .cloned()
            .unwrap_or_default()
    }

    /// Every user account.
    pub fn users(&self) -> impl Iterator<Item = (UserId, &Account)> {
        self.accounts.iter().filter_map(|(id, account)| match id {
            AccountId::User(user) => Some((*user, account)),
            AccountId::System(_) => None,
        })
    }

    pub fn version(&self, id: AccountId) -> u64 {
        self.account(id).map_or(0, |a| a.version)
    }

    pub fn balance(&self, user: UserId) -> Balance {
        let account = self.account(AccountId::User(user));
        Balance {
            available: account.map(|a| a.balance).unwrap_or_default(),
            held: account.map(|a| a.held).unwrap_or_default(),
        }
    }

    /// The sum of all balances: zero, always (double entry).
    pub fn total(&self) -> Credits {
        self.accounts.values().map(|a| a.balance).sum()
    }

    /// Applies an event read from the log at `sequence`; one this state
    /// already holds (sequence not past its account's version) is skipped.
    /// Returns whether it was applied.
    pub fn apply(&mut self, sequence: u64, envelope: &Envelope<LedgerEvent>) -> bool {
        let Ok(aggregate) = envelope.meta.aggregate_id.parse::<AccountId>() else {
            tracing::error!(
                aggregate_id = %envelope.meta.aggregate_id,
                sequence,
                "ledger event of a non-account aggregate; skipped"
            );
            return false;
        };
        if sequence <= self.version(aggregate) {
            return false;
        }
        self.apply_new(aggregate, envelope);
        self.accounts.entry(aggregate).or_default().version = sequence;
        true
    }

    fn apply_new(&mut self, aggregate: AccountId, envelope: &Envelope<LedgerEvent>) {
        let (id, event) = (envelope.meta.id, &envelope.event);
        // Decoding refuses unbalanced events and `decide` asserts it, so an
        // unbalanced one here is a bug, not bad input.
        assert!(
            event.is_balanced(),
            "unbalanced ledger event {id}: {event:?}"
        );
        let account = self.accounts.entry(aggregate).or_default();
        match event {
            LedgerEvent::AccountOpened(_) => account.opened = true,
            LedgerEvent::CreditsGranted(e) => {
                account.opened = true;
                account.grants.insert(id);
                if let Some(expires_at) = e.expires_at {
                    account.expiring.insert(
                        id,
                        ExpiringGrant {
                            expires_at,
                            credits: e.credits,
                        },
                    );
                }
            }
            LedgerEvent::CallPricedPerMessage(e) => {
                let money = account.conversations.entry(e.conversation_id).or_default();
                money.per_message = Some(e.credits_per_message);
            }
            LedgerEvent::CreditsExpired(e) => {
                account.expiring.remove(&e.grant_id);
            }
            LedgerEvent::CreditsCorrected(e) => {
                account.opened = true;
                account.corrections.insert(id);
                account.spend(Credits::ZERO - e.credits);
            }
            LedgerEvent::CreditsHeld(e) => {
                let money = account.conversations.entry(e.conversation_id).or_default();
                money.hold = Some(money.hold.unwrap_or_default() + e.credits);
                money.hold_open = money.hold_open + e.credits;
                money.period = money.period.max(e.period);
                money.covers_ms = e.covers_ms.unwrap_or(money.covers_ms);
                money.rate = e.credits_per_minute.or(money.rate);
                money.last_hold = Some(HoldMark {
                    at: envelope.meta.occurred_at,
                    event: id,
                });
                account.held = account.held + e.credits;
            }
            LedgerEvent::HoldCaptured(e) => {
                let money = account.conversations.entry(e.conversation_id).or_default();
                money.captured = Some(money.captured.unwrap_or_default() + e.credits);
                money.charge_event = Some(id);
                money.hold_open = money.hold_open - e.credits;
                account.held = account.held - e.credits;
                account.spend(e.credits);
            }
            LedgerEvent::HoldReleased(e) => {
                let money = account.conversations.entry(e.conversation_id).or_default();
                money.hold_open = money.hold_open - e.credits;
                money.expired |= e.reason == ReleaseReason::Expired;
                account.held = account.held - e.credits;
            }
            LedgerEvent::UsageCharged(e) => {
                let money = account.conversations.entry(e.conversation_id).or_default();
                money.usage = Some(money.usage.unwrap_or_default() + e.credits);
                if money.hold.is_none() {
                    money.charge_event = Some(id);
                }
                account.spend(e.credits);
            }
            LedgerEvent::ChargeAdjusted(e) => {
                let money = account.conversations.entry(e.conversation_id).or_default();
                money.adjusted = Some(e.actual);
                account.spend(e.actual - e.estimated);
            }
        }
        for posting in event.postings() {
            let account = self.accounts.entry(posting.account).or_default();
            account.balance = account.balance + posting.credits;
        }
    }
}

#[cfg(test)]
mod tests {
    use events::{AccountId, ConversationId, Credits, UserId};

    use crate::given::{charge, given, grant, hold};

    #[test]
    fn an_event_already_applied_is_skipped_by_sequence() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 1_000), hold(user, conversation)]);
        let command = charge(user, conversation, 1_000);
        let events = ledger.when(&command).expect("charged");
        ledger.then(&command, events);
        let before = ledger.state.clone();
        let version = before.version(AccountId::User(user));
        let replayed = crate::book::envelopes(
            AccountId::User(user),
            &grant(user, 5),
            crate::book::Cause {
                correlation_id: events::CorrelationId::new(),
                causation_id: None,
            },
            ledger.when(&grant(user, 5)).expect("granted"),
        );
        assert!(
            !ledger.state.apply(version, &replayed[0]),
            "not past the version"
        );
        assert_eq!(ledger.state.user(user), before.user(user));
        assert!(ledger.state.apply(version + 1, &replayed[0]));
        assert_eq!(ledger.available(user), 1_000 - 7 + 5);
        assert_eq!(ledger.state.total(), Credits::ZERO);
    }
}
