//! `charge`: a finished call pays its duration estimate, out of its hold
//! first, and the rest of the hold goes back to the user. What the estimate
//! charges beyond the hold never takes the user below zero: only
//! ElevenLabs' own figure may (see `adjust`).

use events::ledger::{HoldCaptured, HoldReleased, LedgerEvent, ReleaseReason, UsageCharged};
use events::{AccountId, ConversationId, Credits, Posting, SystemAccount, UserId};

use crate::account::Account;
use crate::pricing::{Pricing, estimate};

/// What a finished call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub duration_ms: u64,
    /// The rate in effect for a call never held.
    pub rate: Option<u32>,
    /// Messages of the call, for one priced per message.
    pub messages: Option<u32>,
}

/// The events still missing for the charge of `conversation`: per message
/// when it is priced so and the count is known, else its duration at the
/// rate of its hold, else `usage.rate`, else the default rate: all of them
/// the first time; after a partial append only the rest; none once done.
///
/// Order matters for that recovery: the excess over the hold is charged
/// before the capture, and the capture marks the charge complete.
pub fn decide(
    account: &Account,
    pricing: &Pricing,
    user: UserId,
    conversation: ConversationId,
    usage: Usage,
) -> Vec<LedgerEvent> {
    let duration_ms = usage.duration_ms;
    let money = account
        .conversations
        .get(&conversation)
        .copied()
        .unwrap_or_default();
    let user = AccountId::User(user);
    let mut events = Vec::new();
    let mut hold_open = money.hold_open;
    if !money.is_charged() {
        // A held call keeps the rate it was held at.
        let rate = money
            .rate
            .or(usage.rate)
            .unwrap_or(pricing.credits_per_minute);
        let estimate = match (money.per_message, usage.messages) {
            (Some(per_message), Some(messages)) => {
                Credits::new(i64::from(per_message) * i64::from(messages))
            }
            _ => estimate(rate, duration_ms),
        };
        let captured = match money.hold {
            Some(_) => estimate.min(hold_open),
            None => Credits::ZERO,
        };
        let excess = (estimate - captured).min(account.balance.max(Credits::ZERO));
        // Without a hold the usage marks the call charged, even when the
        // user had nothing left to pay it with; a free call books nothing.
        let book_usage = match money.hold {
            Some(_) => excess > Credits::ZERO,
            None => estimate > Credits::ZERO,
        };
        if book_usage && money.usage.is_none() {
            events.push(LedgerEvent::UsageCharged(UsageCharged {
                conversation_id: conversation,
                credits: excess,
                duration_ms,
                postings: Posting::transfer(user, system(SystemAccount::Usage), excess).to_vec(),
            }));
        }
        if money.hold.is_some() {
            events.push(LedgerEvent::HoldCaptured(HoldCaptured {
                conversation_id: conversation,
                credits: captured,
                postings: Posting::transfer(
                    system(SystemAccount::Holds),
                    system(SystemAccount::Usage),
                    captured,
                )
                .to_vec(),
            }));
            hold_open = hold_open - captured;
        }
    }
    if hold_open > Credits::ZERO {
        events.push(LedgerEvent::HoldReleased(HoldReleased {
            conversation_id: conversation,
            credits: hold_open,
            postings: Posting::transfer(system(SystemAccount::Holds), user, hold_open).to_vec(),
            reason: ReleaseReason::Settled,
        }));
    }
    events
}

fn system(account: SystemAccount) -> AccountId {
    AccountId::System(account)
}

#[cfg(test)]
mod tests {
    use events::ledger::LedgerEvent;
    use events::{ConversationId, Credits, UserId};

    use crate::given::{charge, given, grant, hold, types};

    fn credits(events: &[LedgerEvent]) -> Vec<i64> {
        events
            .iter()
            .map(|e| match e {
                LedgerEvent::HoldCaptured(c) => c.credits.get(),
                LedgerEvent::HoldReleased(r) => r.credits.get(),
                LedgerEvent::UsageCharged(u) => u.credits.get(),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn an_ended_call_captures_its_estimate_and_releases_the_rest() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        let command = charge(user, conversation, 90_500);
        let events = ledger.when(&command).expect("charged");
        assert_eq!(types(&events), ["hold.captured", "hold.released"]);
        assert_eq!(credits(&events), [604, 4_000 - 604]);
        ledger.then(&command, events);
        assert_eq!(ledger.available(user), 10_000 - 604);
        assert_eq!(ledger.held(user), 0);
        assert_eq!(ledger.when(&command), Ok(Vec::new()), "charged once");
        assert_eq!(
            ledger.when(&charge(user, conversation, 999_999)),
            Ok(Vec::new()),
            "a second end with another duration charges nothing either"
        );
    }

    #[test]
    fn a_call_longer_than_its_hold_charges_the_excess_first_but_never_below_zero() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        let command = charge(user, conversation, 660_000);
        let events = ledger.when(&command).expect("charged");
        assert_eq!(types(&events), ["usage.charged", "hold.captured"]);
        assert_eq!(credits(&events), [400, 4_000]);
        ledger.then(&command, events);
        assert_eq!(ledger.available(user), 10_000 - 4_400);

        let (poor, call) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(poor, 1_000), hold(poor, call)]);
        let command = charge(poor, call, 180_000);
        let events = ledger.when(&command).expect("charged");
        assert_eq!(types(&events), ["hold.captured"], "nothing left to take");
        assert_eq!(credits(&events), [1_000]);
        ledger.then(&command, events);
        assert_eq!(
            ledger.available(poor),
            0,
            "our estimate never goes below zero"
        );
    }

    #[test]
    fn a_held_call_keeps_its_rate_when_the_rate_changes_later() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        ledger.pricing.credits_per_minute = 800;
        let events = ledger
            .when(&charge(user, conversation, 60_000))
            .expect("charged");
        assert_eq!(credits(&events), [400, 4_000 - 400], "priced when held");
        let unheld = ConversationId::new();
        let events = ledger.when(&charge(user, unheld, 60_000)).expect("charged");
        assert_eq!(credits(&events), [800], "a call never held: the rate now");
    }

    #[test]
    fn after_a_partial_append_only_the_missing_events_are_decided() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        let command = charge(user, conversation, 660_000);
        let mut events = ledger.when(&command).expect("charged");
        events.truncate(1);
        ledger.then(&command, events);
        let rest = ledger.when(&command).expect("the rest");
        assert_eq!(types(&rest), ["hold.captured"]);

        let other = ConversationId::new();
        let mut ledger = given(&[grant(user, 10_000), hold(user, other)]);
        let command = charge(user, other, 1_000);
        let mut events = ledger.when(&command).expect("charged");
        events.truncate(1);
        ledger.then(&command, events);
        let rest = ledger.when(&command).expect("the rest");
        assert_eq!(types(&rest), ["hold.released"]);
        assert_eq!(credits(&rest), [4_000 - 7]);
    }

    #[test]
    fn without_a_hold_the_call_is_charged_directly_and_a_free_one_books_nothing() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let ledger = given(&[grant(user, 1_000)]);
        let events = ledger
            .when(&charge(user, conversation, 30_000))
            .expect("charged");
        assert_eq!(types(&events), ["usage.charged"]);
        assert_eq!(credits(&events), [200]);
        assert_eq!(ledger.when(&charge(user, conversation, 0)), Ok(Vec::new()));
        let stranger = UserId::new();
        let events = given(&[])
            .when(&charge(stranger, conversation, 60_000))
            .expect("charged");
        assert_eq!(types(&events), ["account.opened", "usage.charged"]);
        assert_eq!(
            events[1]
                .postings()
                .iter()
                .map(|p| p.credits)
                .sum::<Credits>(),
            Credits::ZERO
        );
    }
}
