//! `cmd.ledger.*`: grants, balances, holds and refusals.

use events::command::{HoldPlaced, RefusalCode, subject};
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
