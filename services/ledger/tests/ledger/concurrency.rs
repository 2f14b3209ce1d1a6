//! Many accounts at once: requests and conversation events for different
//! users are decided concurrently by two copies, and each still books
//! exactly what it should.

use events::{ConversationId, UserId};
use futures::future::join_all;
use tokio::sync::oneshot;

use crate::support::{Harness, balance, cost_reported, ended, requested};

#[tokio::test]
async fn concurrent_holds_and_charges_for_many_users_on_two_copies_book_each_once() {
    const USERS: usize = 40;
    const CALLS_PER_USER: usize = 3;
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
    let users: Vec<UserId> = (0..USERS).map(|_| UserId::new()).collect();
    join_all(users.iter().map(|&user| harness.grant(user, 100_000))).await;

    let calls: Vec<(UserId, ConversationId)> = users
        .iter()
        .flat_map(|&user| (0..CALLS_PER_USER).map(move |_| (user, ConversationId::new())))
        .collect();
    let holds = join_all(
        calls
            .iter()
            .map(|&(user, conversation)| harness.hold(user, conversation)),
    )
    .await;
    assert!(holds.iter().all(Result::is_ok), "{holds:?}");
    join_all(calls.iter().map(|&(user, conversation)| {
        harness.conversation(
            conversation,
            user,
            vec![requested(), ended(60_000), cost_reported(450, 60_000)],
        )
    }))
    .await;

    let charged = i64::try_from(CALLS_PER_USER).expect("small") * 450;
    for &user in &users {
        harness
            .await_balance(user, balance(100_000 - charged, 0))
            .await;
    }
    for &(_, conversation) in &calls {
        assert_eq!(
            harness.conversation_charges(conversation).await.last(),
            Some(&"charge.adjusted"),
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
