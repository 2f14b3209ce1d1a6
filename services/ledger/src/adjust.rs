//! `adjust`: once ElevenLabs reports what a call really cost, the user pays
//! exactly that: the difference from the estimate is posted, either sign.

use events::command::Refusal;
use events::ledger::{ChargeAdjusted, LedgerEvent};
use events::{AccountId, ConversationId, Credits, Posting, SystemAccount, UserId};

use crate::account::Account;
use crate::charge;
use crate::decide::bookable;
use crate::pricing::Pricing;

/// Adjusts at most once. A report that arrives before the call's charge
/// (another ledger copy may still be booking it) charges first, from the
/// reported duration, so the two can never both charge.
pub fn decide(
    account: &Account,
    pricing: &Pricing,
    user: UserId,
    conversation: ConversationId,
    actual: Credits,
    call_duration_ms: u64,
) -> Result<Vec<LedgerEvent>, Refusal> {
    let actual = bookable(actual, "the reported cost")?;
    let money = account
        .conversations
        .get(&conversation)
        .copied()
        .unwrap_or_default();
    if money.adjusted.is_some() {
        return Ok(Vec::new());
    }
    let mut events = charge::decide(account, pricing, user, conversation, call_duration_ms);
    let estimated = money.estimated()
        + events
            .iter()
            .map(|e| match e {
                LedgerEvent::HoldCaptured(c) => c.credits,
                LedgerEvent::UsageCharged(u) => u.credits,
                _ => Credits::ZERO,
            })
            .sum();
    events.push(LedgerEvent::ChargeAdjusted(ChargeAdjusted {
        conversation_id: conversation,
        estimated,
        actual,
        postings: Posting::transfer(
            AccountId::User(user),
            AccountId::System(SystemAccount::Adjustments),
            actual - estimated,
        )
        .to_vec(),
    }));
    Ok(events)
}

#[cfg(test)]
mod tests {
    use events::ledger::LedgerEvent;
    use events::{ConversationId, UserId};

    use crate::given::{adjust, charge, given, grant, hold, types};

    fn adjustment(events: &[LedgerEvent]) -> (i64, i64) {
        match events.last() {
            Some(LedgerEvent::ChargeAdjusted(a)) => (a.estimated.get(), a.actual.get()),
            other => panic!("expected an adjustment, got {other:?}"),
        }
    }

    #[test]
    fn the_charge_moves_to_the_reported_figure_either_way_once() {
        for (actual, available) in [(750, 10_000 - 750), (100, 10_000 - 100), (400, 9_600)] {
            let (user, conversation) = (UserId::new(), ConversationId::new());
            let mut ledger = given(&[
                grant(user, 10_000),
                hold(user, conversation),
                charge(user, conversation, 60_000),
            ]);
            let command = adjust(user, conversation, actual, 61_000);
            let events = ledger.when(&command).expect("adjusted");
            assert_eq!(types(&events), ["charge.adjusted"]);
            assert_eq!(adjustment(&events), (400, actual));
            ledger.then(&command, events);
            assert_eq!(ledger.available(user), available);
            assert_eq!(
                ledger.when(&command),
                Ok(Vec::new()),
                "adjusted at most once"
            );
        }
    }

    #[test]
    fn a_report_before_the_charge_charges_first_and_the_end_then_books_nothing() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        let command = adjust(user, conversation, 500, 60_000);
        let events = ledger.when(&command).expect("adjusted");
        assert_eq!(
            types(&events),
            ["hold.captured", "hold.released", "charge.adjusted"]
        );
        assert_eq!(adjustment(&events), (400, 500));
        ledger.then(&command, events);
        assert_eq!(
            ledger.when(&charge(user, conversation, 60_000)),
            Ok(Vec::new())
        );
        assert_eq!(ledger.available(user), 9_500);
        assert_eq!(ledger.held(user), 0);
    }

    #[test]
    fn a_negative_or_absurd_report_is_refused() {
        let user = UserId::new();
        let ledger = given(&[grant(user, 10_000)]);
        for actual in [-1, i64::MAX] {
            assert!(
                ledger
                    .when(&adjust(user, ConversationId::new(), actual, 0))
                    .is_err()
            );
        }
    }
}
