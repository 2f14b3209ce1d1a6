//! Conversation events in the log become charges, releases and adjustments.

use events::{AccountId, ConversationId, Credits, UserId};

use crate::support::{
    Harness, balance, cost_reported, drain_until, ended, requested, transcript_submitted,
};

#[tokio::test]
async fn an_ended_call_is_charged_its_estimate_and_the_rest_of_the_hold_released() {
    let harness = Harness::start().await;
    let ledger = harness.ledger().await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    harness.grant(user, 10_000).await;
    harness.hold(user, conversation).await.expect("held");
    harness
        .conversation(conversation, user, vec![requested(), ended(90_500)])
        .await;

    drain_until(&ledger, || async {
        ledger.balance(user).await.held == Credits::ZERO
    })
    .await;
    // 90.5 s at 400 credits a minute is 603.33…, rounded up.
    assert_eq!(harness.balance(user).await, balance(10_000 - 604, 0));
    assert_eq!(
        harness.conversation_charges(conversation).await,
        ["credits.held", "hold.captured", "hold.released"]
    );
    assert_eq!(ledger.total().await, Credits::ZERO);
    let balances = harness.log_balances().await;
    assert_eq!(balances[&AccountId::User(user)], Credits::new(10_000 - 604));
}

#[tokio::test]
async fn a_cost_report_adjusts_the_charge_to_elevenlabs_figure() {
    let harness = Harness::start().await;
    let ledger = harness.ledger().await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    let cheaper = ConversationId::new();
    harness.grant(user, 10_000).await;
    harness.hold(user, conversation).await.expect("held");
    harness.hold(user, cheaper).await.expect("held");
    harness
        .conversation(
            conversation,
            user,
            vec![requested(), ended(60_000), cost_reported(730, 61_200)],
        )
        .await;
    harness
        .conversation(
            cheaper,
            user,
            vec![requested(), ended(60_000), cost_reported(250, 59_000)],
        )
        .await;

    let expected = balance(10_000 - 730 - 250, 0);
    drain_until(&ledger, || async { ledger.balance(user).await == expected }).await;
    assert_eq!(harness.balance(user).await, expected);
    for id in [conversation, cheaper] {
        assert_eq!(
            harness.conversation_charges(id).await,
            [
                "credits.held",
                "hold.captured",
                "hold.released",
                "charge.adjusted"
            ]
        );
    }
    let balances = harness.log_balances().await;
    assert_eq!(
        balances[&AccountId::System(events::SystemAccount::Adjustments)],
        Credits::new(330 - 150)
    );
}

#[tokio::test]
async fn calls_without_a_hold_and_submitted_transcripts_are_charged_directly() {
    let harness = Harness::start().await;
    let ledger = harness.ledger().await;
    let (user, live, client_side) = (UserId::new(), ConversationId::new(), ConversationId::new());
    harness.grant(user, 1_000).await;
    harness
        .conversation(live, user, vec![requested(), ended(30_000)])
        .await;
    harness
        .conversation(client_side, user, vec![transcript_submitted(15_000)])
        .await;
    drain_until(&ledger, || async {
        ledger.balance(user).await == balance(1_000 - 200 - 100, 0)
    })
    .await;
    for conversation in [live, client_side] {
        assert_eq!(
            harness.conversation_charges(conversation).await,
            ["usage.charged"]
        );
    }
    assert_eq!(ledger.total().await, Credits::ZERO);
    harness.log_balances().await;
}
