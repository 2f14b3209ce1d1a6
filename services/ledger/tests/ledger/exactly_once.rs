//! Each conversation is charged exactly once and adjusted at most once,
//! whatever is redelivered or replayed and however many copies run.

use std::time::Instant;

use events::{ConversationId, UserId};
use eventstore::{Step, StreamName};
use tokio::sync::oneshot;

use crate::support::{
    DEADLINE, Harness, balance, cost_reported, drain_until, ended, failed, requested,
};

#[tokio::test]
async fn redelivered_events_and_a_restarted_ledger_charge_once() {
    let harness = Harness::start().await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    let expected = balance(10_000 - 500, 0);
    {
        let ledger = harness.ledger().await;
        harness.grant(user, 10_000).await;
        harness.hold(user, conversation).await.expect("held");
        // The session may append `ended` twice (a retry with a new id).
        harness
            .conversation(
                conversation,
                user,
                vec![
                    requested(),
                    ended(60_000),
                    ended(60_000),
                    cost_reported(500, 60_000),
                ],
            )
            .await;
        drain_until(&ledger, || async { ledger.balance(user).await == expected }).await;
    }

    // A new copy rebuilds its state from the log, and the durable consumer is
    // gone, so every conversation event is delivered to it again.
    let js = async_nats::jetstream::new(harness.client.clone());
    js.get_stream(StreamName::Conversations.as_str())
        .await
        .expect("stream")
        .delete_consumer(ledger::consumer::DURABLE)
        .await
        .expect("consumer deleted");
    let ledger = harness.ledger().await;
    assert_eq!(
        ledger.balance(user).await,
        expected,
        "replayed from the log"
    );
    let deadline = Instant::now() + DEADLINE;
    let mut redelivered = 0;
    while redelivered < 4 {
        assert!(
            Instant::now() < deadline,
            "only {redelivered} events came again"
        );
        match ledger.step().await.expect("step") {
            Step::Advanced(n) => redelivered += n,
            Step::CaughtUp => {}
            failed @ Step::Failed { .. } => panic!("handler failed: {failed:?}"),
        }
    }
    assert_eq!(harness.balance(user).await, expected);
    assert_eq!(
        harness.conversation_charges(conversation).await,
        [
            "credits.held",
            "hold.captured",
            "hold.released",
            "charge.adjusted"
        ]
    );
    harness.log_balances().await;
}

#[tokio::test]
async fn two_ledger_copies_charge_each_conversation_once() {
    const CONVERSATIONS: usize = 20;
    let harness = Harness::start().await;
    let mut stops = Vec::new();
    let mut copies = Vec::new();
    for _ in 0..2 {
        let ledger = harness.ledger().await;
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(stop);
        copies.push(tokio::spawn(ledger.run(async {
            let _ = stopped.await;
        })));
    }

    let user = UserId::new();
    harness.grant(user, 1_000_000).await;
    let mut conversations = Vec::new();
    for i in 0..CONVERSATIONS {
        let conversation = ConversationId::new();
        harness.hold(user, conversation).await.expect("held");
        let end = if i % 2 == 0 {
            ended(60_000)
        } else {
            failed(60_000)
        };
        // Duplicated ends and reports land on different copies at once.
        harness
            .conversation(
                conversation,
                user,
                vec![
                    requested(),
                    end.clone(),
                    end,
                    cost_reported(450, 60_000),
                    cost_reported(450, 60_000),
                ],
            )
            .await;
        conversations.push(conversation);
    }

    let charged = i64::try_from(CONVERSATIONS).expect("small") * 450;
    harness
        .await_balance(user, balance(1_000_000 - charged, 0))
        .await;
    for conversation in conversations {
        assert_eq!(
            harness.conversation_charges(conversation).await,
            [
                "credits.held",
                "hold.captured",
                "hold.released",
                "charge.adjusted"
            ],
            "{conversation}"
        );
    }
    harness.log_balances().await;
    for stop in stops {
        let _ = stop.send(());
    }
    for copy in copies {
        copy.await.expect("joined").expect("stopped cleanly");
    }
}

#[tokio::test]
async fn a_running_ledger_rides_out_a_nats_restart() {
    let mut harness = Harness::start().await;
    let ledger = harness.ledger().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let copy = tokio::spawn(ledger.run(async {
        let _ = stopped.await;
    }));
    let (user, conversation) = (UserId::new(), ConversationId::new());
    harness.grant(user, 10_000).await;
    harness.hold(user, conversation).await.expect("held");

    harness.server.kill();
    harness.server.restart().expect("nats-server restarts");
    // The test's own client reconnects too; wait until appends work again.
    let deadline = Instant::now() + DEADLINE;
    while harness.store.ensure_streams().await.is_err() {
        assert!(Instant::now() < deadline, "NATS never came back");
    }
    harness
        .conversation(conversation, user, vec![requested(), ended(60_000)])
        .await;
    harness.await_balance(user, balance(9_600, 0)).await;
    assert_eq!(
        harness.conversation_charges(conversation).await,
        ["credits.held", "hold.captured", "hold.released"]
    );
    harness.log_balances().await;
    let _ = stop.send(());
    copy.await.expect("joined").expect("stopped cleanly");
}
