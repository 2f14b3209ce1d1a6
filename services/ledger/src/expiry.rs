//! `expire`: a hold that saw neither an end nor an extension within its
//! TTL goes back to the user, so credits are never locked for good. Which
//! holds are due is decided from the state and a given `now` alone; the
//! service's timer only supplies the clock.

use chrono::{DateTime, Utc};
use events::ledger::{HoldReleased, LedgerEvent, ReleaseReason};
use events::{AccountId, ConversationId, EventId, Posting, SystemAccount, UserId};

use crate::account::{Account, ConversationMoney, State};
use crate::pricing::Pricing;

/// The release of `conversation`'s open hold if its TTL has run out at
/// `now`; nothing otherwise (not due, already released, charged).
pub fn decide(
    account: &Account,
    pricing: &Pricing,
    user: UserId,
    conversation: ConversationId,
    now: DateTime<Utc>,
) -> Vec<LedgerEvent> {
    match account.conversations.get(&conversation) {
        Some(money) if is_due(money, pricing, now) => {
            vec![LedgerEvent::HoldReleased(HoldReleased {
                conversation_id: conversation,
                credits: money.hold_open,
                postings: Posting::transfer(
                    AccountId::System(SystemAccount::Holds),
                    AccountId::User(user),
                    money.hold_open,
                )
                .to_vec(),
                reason: ReleaseReason::Expired,
            })]
        }
        _ => Vec::new(),
    }
}

/// A hold due to expire: the user, the conversation, and the hold event
/// that started its last TTL (the expiry's cause).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub user: UserId,
    pub conversation: ConversationId,
    pub cause: EventId,
}

/// Every hold whose TTL has run out at `now`.
pub fn due(state: &State, pricing: &Pricing, now: DateTime<Utc>) -> Vec<Due> {
    state
        .users()
        .flat_map(|(user, account)| {
            account
                .conversations
                .iter()
                .filter(|(_, money)| is_due(money, pricing, now))
                .filter_map(move |(conversation, money)| {
                    Some(Due {
                        user,
                        conversation: *conversation,
                        cause: money.last_hold?.event,
                    })
                })
        })
        .collect()
}

/// Credits still held, the call not charged, and the TTL gone since the
/// last hold or extension.
pub fn is_due(money: &ConversationMoney, pricing: &Pricing, now: DateTime<Utc>) -> bool {
    let Some(mark) = money.last_hold else {
        return false;
    };
    let ttl = chrono::Duration::milliseconds(i64::try_from(pricing.ttl_ms()).unwrap_or(i64::MAX));
    money.hold_open > events::Credits::ZERO
        && !money.is_charged()
        && now.signed_duration_since(mark.at) >= ttl
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use events::{ConversationId, UserId};

    use crate::given::{charge, expire, extend, given, grant, hold, types};

    #[test]
    fn a_hold_left_alone_for_its_ttl_goes_back_once() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        let ttl = chrono::Duration::seconds(i64::from(ledger.pricing.ttl_secs));
        let soon = expire(user, conversation, Utc::now() + ttl / 2);
        assert_eq!(ledger.when(&soon), Ok(Vec::new()), "not yet due");
        let later = expire(user, conversation, Utc::now() + ttl);
        assert_eq!(
            super::due(&ledger.state, &ledger.pricing, Utc::now() + ttl).len(),
            1
        );
        let events = ledger.when(&later).expect("expired");
        assert_eq!(types(&events), ["hold.released"]);
        ledger.then(&later, events);
        assert_eq!((ledger.available(user), ledger.held(user)), (10_000, 0));
        assert_eq!(ledger.when(&later), Ok(Vec::new()), "released once");
        assert!(super::due(&ledger.state, &ledger.pricing, Utc::now() + ttl).is_empty());
    }

    #[test]
    fn an_extension_restarts_the_ttl_and_an_end_leaves_nothing_to_expire() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let start = Utc::now();
        let mut ledger = given(&[grant(user, 10_000)]);
        let ttl = chrono::Duration::seconds(i64::from(ledger.pricing.ttl_secs));
        ledger.at(start);
        ledger.book(&hold(user, conversation));
        ledger.at(start + ttl / 2);
        ledger.book(&extend(user, conversation, 1));
        let due =
            |ledger: &crate::given::Given, now| super::due(&ledger.state, &ledger.pricing, now);
        assert!(due(&ledger, start + ttl).is_empty(), "extended half-way");
        assert_eq!(due(&ledger, start + ttl / 2 + ttl).len(), 1);
        ledger.book(&charge(user, conversation, 1_000));
        assert!(due(&ledger, start + ttl * 10).is_empty(), "charged");
    }
}
