//! Spend control over NATS: a hold per period, extensions until the user
//! runs out, holds that expire when nobody extends or ends them, and costs
//! above the hold booked and flagged.

use events::command::RefusalCode;
use events::ledger::{ChargeFlag, LedgerEvent, ReleaseReason};
use events::{ConversationId, Credits, UserId};
use ledger::Pricing;

use crate::support::{Harness, balance, cost_reported, drain_until, ended, requested};

/// One-minute periods at 400 credits per minute.
fn minute_periods() -> Pricing {
    Pricing {
        period_secs: 60,
        ttl_secs: 3_600,
        ..Pricing::default()
    }
}

#[tokio::test]
async fn a_long_call_at_a_small_balance_is_extended_period_by_period_until_it_cannot_be() {
    let harness = Harness::start().await;
    let ledger = harness.ledger_with(minute_periods()).await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    harness.grant(user, 1_000).await;
    let placed = harness.hold(user, conversation).await.expect("held");
    assert_eq!(
        (placed.held, placed.covers_ms),
        (Credits::new(400), Some(60_000))
    );
    let first = harness
        .extend(user, conversation, 1)
        .await
        .expect("extended");
    assert_eq!((first.held, first.covers_ms), (Credits::new(800), 120_000));
    assert_eq!(
        harness.extend(user, conversation, 1).await,
        Ok(first),
        "asking again answers the same extension"
    );
    let refused = harness
        .extend(user, conversation, 2)
        .await
        .expect_err("200 left, a minute costs 400");
    assert_eq!(refused.code, RefusalCode::InsufficientCredits);
    assert_eq!(harness.balance(user).await, balance(200, 800));
    assert_eq!(
        harness.conversation_charges(conversation).await,
        ["credits.held", "credits.held"],
        "one hold per period"
    );

    // The session ends the call (credits_exhausted) a little after the
    // covered two minutes: our estimate takes what is left, never more.
    harness
        .conversation(conversation, user, vec![requested(), ended(150_000)])
        .await;
    drain_until(&ledger, || async {
        ledger.balance(user).await == balance(0, 0)
    })
    .await;

    // ElevenLabs reports more than was ever held: booked, and flagged.
    harness
        .conversation(conversation, user, vec![cost_reported(1_100, 150_000)])
        .await;
    drain_until(&ledger, || async {
        ledger.balance(user).await == balance(-100, 0)
    })
    .await;
    let flags: Vec<ChargeFlag> = harness
        .ledger_events()
        .await
        .into_iter()
        .find_map(|e| match e.event {
            LedgerEvent::ChargeAdjusted(a) if a.conversation_id == conversation => {
                Some(a.detail.flags)
            }
            _ => None,
        })
        .expect("adjusted");
    assert_eq!(
        flags,
        [ChargeFlag::ExceedsHold {
            held: Credits::new(800),
            excess: Credits::new(300),
        }]
    );
    harness.log_balances().await;
}

#[tokio::test]
async fn a_hold_nobody_extends_or_ends_expires_as_an_event_and_a_late_end_still_charges_once() {
    let harness = Harness::start().await;
    let ledger = harness
        .ledger_with(Pricing {
            period_secs: 1,
            ttl_secs: 2,
            ..Pricing::default()
        })
        .await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    harness.grant(user, 10_000).await;
    harness.hold(user, conversation).await.expect("held");
    harness.await_balance(user, balance(10_000, 0)).await;

    let events = harness.ledger_events().await;
    let held = events
        .iter()
        .find(|e| matches!(e.event, LedgerEvent::CreditsHeld(_)))
        .expect("held");
    let released = events
        .iter()
        .find(|e| matches!(e.event, LedgerEvent::HoldReleased(_)))
        .expect("released");
    let LedgerEvent::HoldReleased(release) = &released.event else {
        unreachable!("matched above")
    };
    assert_eq!(release.reason, ReleaseReason::Expired);
    assert_eq!(release.credits, Credits::new(400));
    assert_eq!(
        released.meta.causation_id,
        Some(held.meta.id),
        "the expiry names the hold it ends"
    );
    assert!(released.meta.occurred_at - held.meta.occurred_at >= chrono::Duration::seconds(2));

    let refused = harness
        .extend(user, conversation, 1)
        .await
        .expect_err("expired");
    assert_eq!(refused.code, RefusalCode::InsufficientCredits);

    harness
        .conversation(conversation, user, vec![requested(), ended(60_000)])
        .await;
    drain_until(&ledger, || async {
        ledger.balance(user).await == balance(9_600, 0)
    })
    .await;
    assert_eq!(
        harness.conversation_charges(conversation).await,
        [
            "credits.held",
            "hold.released",
            "usage.charged",
            "hold.captured"
        ]
    );
    harness.log_balances().await;
}
