//! `cmd.ledger.*`: grants, balances, holds and refusals.

use events::command::{
    Balance, CorrectCredits, GrantExpiringCredits, HoldPlaced, RefusalCode, subject,
};
use events::ledger::LedgerEvent;
use events::{ConversationId, Credits, EventId, UserId};
use serde_json::json;

use crate::support::{Harness, balance};

#[tokio::test]
async fn a_grant_shows_in_the_balance_and_a_retried_grant_id_counts_once() {
    let harness = Harness::start().await;
    let _ledger = harness.ledger().await;
    let user = UserId::new();
    assert_eq!(harness.balance(user).await, balance(0, 0));

    let grant_id = EventId::new();
    assert_eq!(
        harness.grant_with_id(user, 1_000, grant_id).await,
        balance(1_000, 0)
    );
    assert_eq!(
        harness.grant_with_id(user, 1_000, grant_id).await,
        balance(1_000, 0)
    );
    assert_eq!(harness.grant(user, 500).await, balance(1_500, 0));
    assert_eq!(harness.balance(user).await, balance(1_500, 0));

    let types: Vec<_> = harness
        .ledger_events()
        .await
        .iter()
        .map(|e| events::DomainEvent::event_type(&e.event))
        .collect();
    assert_eq!(
        types,
        ["account.opened", "credits.granted", "credits.granted"]
    );
    let balances = harness.log_balances().await;
    assert_eq!(
        balances[&events::AccountId::User(user)],
        Credits::new(1_500)
    );
}

#[tokio::test]
async fn a_hold_the_user_cannot_cover_is_refused_and_nothing_is_appended() {
    let harness = Harness::start().await;
    let _ledger = harness.ledger().await;
    let user = UserId::new();
    let refused = harness
        .hold(user, ConversationId::new())
        .await
        .expect_err("no credits at all");
    assert_eq!(refused.code, RefusalCode::InsufficientCredits);
    assert!(harness.ledger_events().await.is_empty(), "nothing appended");

    harness.grant(user, 399).await;
    let appended = harness.ledger_events().await.len();
    let refused = harness
        .hold(user, ConversationId::new())
        .await
        .expect_err("below the one-minute minimum");
    assert_eq!(refused.code, RefusalCode::InsufficientCredits);
    assert_eq!(
        harness.ledger_events().await.len(),
        appended,
        "nothing appended"
    );
    assert_eq!(harness.balance(user).await, balance(399, 0));
    harness.log_balances().await;
}

#[tokio::test]
async fn a_hold_reserves_one_period_and_asking_again_answers_the_same_hold() {
    let harness = Harness::start().await;
    let _ledger = harness.ledger().await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    harness.grant(user, 10_000).await;
    let placed = harness.hold(user, conversation).await.expect("held");
    let expected = HoldPlaced {
        held: Credits::new(4_000),
        available: Credits::new(6_000),
        covers_ms: Some(600_000),
    };
    assert_eq!(placed, expected);
    assert_eq!(harness.hold(user, conversation).await, Ok(expected));
    assert_eq!(harness.balance(user).await, balance(6_000, 4_000));
    assert_eq!(
        harness.conversation_charges(conversation).await,
        ["credits.held"]
    );
    harness.log_balances().await;
}

#[tokio::test]
async fn malformed_commands_get_an_invalid_request_refusal() {
    let harness = Harness::start().await;
    let _ledger = harness.ledger().await;
    let user = UserId::new();
    for subject in [
        subject::LEDGER_HOLD,
        subject::LEDGER_GRANT,
        subject::LEDGER_BALANCE,
    ] {
        for body in [
            b"not json".to_vec(),
            b"{}".to_vec(),
            br#"{"user_id":"nope"}"#.to_vec(),
        ] {
            let refused = harness
                .request_raw::<serde_json::Value>(subject, body)
                .await
                .expect_err("refused");
            assert_eq!(refused.code, RefusalCode::InvalidRequest, "{subject}");
        }
    }
    for credits in [0, -10] {
        let grant = json!({"grant_id": EventId::new(), "user_id": user, "credits": credits});
        let refused = harness
            .request::<_, serde_json::Value>(subject::LEDGER_GRANT, &grant)
            .await
            .expect_err("refused");
        assert_eq!(refused.code, RefusalCode::InvalidRequest);
    }
    assert!(harness.ledger_events().await.is_empty());
    harness.log_balances().await;
}

#[tokio::test]
async fn an_expired_grant_and_a_correction_are_events_with_their_ids_reasons_and_actor() {
    let harness = Harness::start().await;
    // A short TTL makes the expiry timer tick often.
    let _ledger = harness
        .ledger_with(ledger::Pricing {
            period_secs: 1,
            ttl_secs: 2,
            ..ledger::Pricing::default()
        })
        .await;
    let user = UserId::new();
    harness.grant(user, 100).await;
    let gift = GrantExpiringCredits {
        grant_id: EventId::new(),
        user_id: user,
        credits: Credits::new(300),
        expires_at: chrono::Utc::now(),
        reason: Some("trial".to_owned()),
    };
    let granted: Result<Balance, _> = harness.request(subject::LEDGER_GRANT_EXPIRING, &gift).await;
    assert!(granted.is_ok(), "{granted:?}");
    // Already due: the ledger's timer takes it back.
    harness.await_balance(user, balance(100, 0)).await;

    let correction = CorrectCredits {
        correction_id: EventId::new(),
        user_id: user,
        credits: Credits::new(-40),
        reason: "test call booked twice".to_owned(),
        actor: "ana@finance".to_owned(),
    };
    for _ in 0..2 {
        let corrected: Balance = harness
            .request(subject::LEDGER_CORRECT, &correction)
            .await
            .expect("corrected");
        assert_eq!(corrected, balance(60, 0), "a retry corrects once");
    }
    let refused = harness
        .request::<_, Balance>(
            subject::LEDGER_CORRECT,
            &CorrectCredits {
                reason: String::new(),
                correction_id: EventId::new(),
                ..correction.clone()
            },
        )
        .await
        .expect_err("no reason");
    assert_eq!(refused.code, RefusalCode::InvalidRequest);

    let events = harness.ledger_events().await;
    let expired = events
        .iter()
        .find_map(|e| match &e.event {
            LedgerEvent::CreditsExpired(x) => Some((x.grant_id, x.credits, e.meta.causation_id)),
            _ => None,
        })
        .expect("expired");
    assert_eq!(
        expired,
        (gift.grant_id, Credits::new(300), Some(gift.grant_id))
    );
    let corrected = events
        .iter()
        .find(|e| matches!(e.event, LedgerEvent::CreditsCorrected(_)))
        .expect("corrected");
    assert_eq!(corrected.meta.id, correction.correction_id);
    let LedgerEvent::CreditsCorrected(c) = &corrected.event else {
        unreachable!("found above")
    };
    assert_eq!(
        (c.reason.as_str(), c.actor.as_str()),
        ("test call booked twice", "ana@finance")
    );
    harness.log_balances().await;
}
