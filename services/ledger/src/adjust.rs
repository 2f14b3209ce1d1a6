//! `adjust`: once ElevenLabs reports what a call really cost, the user pays
//! exactly that: the difference from the estimate is posted, either sign,
//! even when it takes the user below zero (that is what the call cost).
//! Such a charge is flagged with its cause: a report above everything held,
//! or a cost per minute far above the rate the call was priced at.

use events::command::Refusal;
use events::ledger::{AdjustmentDetail, ChargeAdjusted, ChargeFlag, LedgerEvent};
use events::{AccountId, ConversationId, Credits, Posting, SystemAccount, UserId};

use crate::account::{Account, ConversationMoney};
use crate::charge;
use crate::decide::bookable;
use crate::pricing::{Pricing, per_minute};

/// ElevenLabs' figures for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    pub actual: Credits,
    pub call_duration_ms: u64,
    pub call_credits: Option<Credits>,
    pub llm_credits: Option<Credits>,
    /// The rate in effect for the call, used when it was never held.
    pub rate: Option<u32>,
}

/// Adjusts at most once: a repeated, late or reordered report changes
/// nothing after the first. A report that arrives before the call's charge
/// (another ledger copy may still be booking it) charges first, from the
/// reported duration, so the two can never both charge; one for a call the
/// ledger never held nor charged is booked the same way and flagged.
pub fn decide(
    account: &Account,
    pricing: &Pricing,
    user: UserId,
    conversation: ConversationId,
    report: Report,
) -> Result<Vec<LedgerEvent>, Refusal> {
    let actual = bookable(report.actual, "the reported cost")?;
    let call_duration_ms = report.call_duration_ms;
    for part in [report.call_credits, report.llm_credits]
        .into_iter()
        .flatten()
    {
        bookable(part, "a part of the reported cost")?;
    }
    let money = account
        .conversations
        .get(&conversation)
        .copied()
        .unwrap_or_default();
    if money.adjusted.is_some() {
        return Ok(Vec::new());
    }
    let known = account.conversations.contains_key(&conversation);
    let mut events = charge::decide(
        account,
        pricing,
        user,
        conversation,
        charge::Usage {
            duration_ms: call_duration_ms,
            rate: report.rate,
            messages: None,
        },
    );
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
        detail: AdjustmentDetail {
            // Unknown until appended when the charge is booked just above;
            // the envelopes fill it in then.
            corrects: money.charge_event,
            reported_duration_ms: Some(call_duration_ms),
            call_credits: report.call_credits,
            llm_credits: report.llm_credits,
            flags: flags(
                &money,
                pricing,
                actual,
                call_duration_ms,
                known,
                report.rate,
            ),
        },
    }));
    Ok(events)
}

/// What is wrong with booking `actual` for the call of `money`.
fn flags(
    money: &ConversationMoney,
    pricing: &Pricing,
    actual: Credits,
    call_duration_ms: u64,
    known: bool,
    rate: Option<u32>,
) -> Vec<ChargeFlag> {
    let mut flags = Vec::new();
    if !known {
        flags.push(ChargeFlag::UnknownConversation);
    }
    if let Some(held) = money.hold
        && actual > held
    {
        flags.push(ChargeFlag::ExceedsHold {
            held,
            excess: actual - held,
        });
    }
    let rate = money.rate.or(rate).unwrap_or(pricing.credits_per_minute);
    let reported = per_minute(actual, call_duration_ms);
    let limit = i64::from(rate) * i64::from(pricing.flag_rate_factor);
    if reported.get() > limit {
        flags.push(ChargeFlag::AboveRateCard {
            reported_per_minute: reported,
            rate_per_minute: rate,
        });
    }
    flags
}

#[cfg(test)]
mod tests {
    use events::ledger::{ChargeFlag, LedgerEvent};
    use events::{ConversationId, Credits, UserId};

    use crate::decide::Command;
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
    fn a_report_above_the_hold_is_booked_in_full_and_flagged_with_its_cause() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[
            grant(user, 10_000),
            hold(user, conversation),
            charge(user, conversation, 300_000),
        ]);
        let command = adjust(user, conversation, 133_040, 300_000);
        let events = ledger.when(&command).expect("adjusted");
        let Some(LedgerEvent::ChargeAdjusted(adjusted)) = events.last() else {
            panic!("expected an adjustment, got {events:?}");
        };
        assert_eq!(
            adjusted.detail.flags,
            [
                ChargeFlag::ExceedsHold {
                    held: Credits::new(4_000),
                    excess: Credits::new(133_040 - 4_000),
                },
                ChargeFlag::AboveRateCard {
                    reported_per_minute: Credits::new(26_608),
                    rate_per_minute: 400,
                },
            ]
        );
        ledger.then(&command, events);
        assert_eq!(ledger.available(user), 10_000 - 133_040, "booked in full");

        let fair = given(&[grant(user, 10_000), hold(user, conversation)]);
        let events = fair
            .when(&adjust(user, conversation, 1_100, 120_000))
            .expect("adjusted");
        let Some(LedgerEvent::ChargeAdjusted(adjusted)) = events.last() else {
            panic!("expected an adjustment, got {events:?}");
        };
        assert!(
            adjusted.detail.flags.is_empty(),
            "within hold and rate: {adjusted:?}"
        );
    }

    #[test]
    fn an_adjustment_links_to_the_charge_it_corrects_and_keeps_the_split() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[
            grant(user, 10_000),
            hold(user, conversation),
            charge(user, conversation, 60_000),
        ]);
        let charged = ledger.state.user(user).conversations[&conversation].charge_event;
        assert!(charged.is_some());
        let command = Command::Adjust {
            user,
            conversation,
            actual: Credits::new(450),
            call_duration_ms: 60_000,
            call_credits: Some(Credits::new(400)),
            llm_credits: Some(Credits::new(50)),
            rate: None,
        };
        let events = ledger.when(&command).expect("adjusted");
        let Some(LedgerEvent::ChargeAdjusted(adjusted)) = events.last() else {
            panic!("expected an adjustment, got {events:?}");
        };
        assert_eq!(adjusted.detail.corrects, charged);
        assert_eq!(
            (adjusted.detail.call_credits, adjusted.detail.llm_credits),
            (Some(Credits::new(400)), Some(Credits::new(50)))
        );
        ledger.then(&command, events);

        let stranger = ConversationId::new();
        let command = adjust(user, stranger, 300, 60_000);
        let events = ledger.when(&command).expect("booked");
        assert_eq!(types(&events), ["usage.charged", "charge.adjusted"]);
        let envelopes = crate::book::envelopes(
            events::AccountId::User(user),
            &command,
            crate::book::Cause {
                correlation_id: events::CorrelationId::new(),
                causation_id: None,
            },
            events,
        );
        let LedgerEvent::ChargeAdjusted(adjusted) = &envelopes[1].event else {
            panic!("expected an adjustment");
        };
        assert_eq!(adjusted.detail.flags, [ChargeFlag::UnknownConversation]);
        assert_eq!(
            adjusted.detail.corrects,
            Some(envelopes[0].meta.id),
            "linked to the charge booked with it"
        );
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
