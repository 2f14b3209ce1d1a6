//! `kill -9` of the real `ledger` binary while 1,000 conversations (their
//! events appended straight to the log) are being charged, then a restart:
//! every call is charged exactly what ElevenLabs reported, once, as a run
//! without the crash would have charged it.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use events::command::{GetBalance, subject};
use events::ledger::LedgerEvent;
use events::{ConversationId, UserId};
use eventstore::StreamName;
use futures::future::join_all;

use crate::support::{DEADLINE, Harness, balance, cost_reported, ended, requested};

const USERS: usize = 50;
const CONVERSATIONS: usize = 1_000;
const GRANT: i64 = 1_000_000;

/// Events a killed copy held come back to the restarted one after this.
const ACK_WAIT_SECS: &str = "2";

/// The `ledger` binary, killed (`kill -9`) when dropped, so a failing test
/// leaves no process behind.
struct LedgerProcess(Child);

impl LedgerProcess {
    fn start(harness: &Harness) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_ledger"))
            .env("NATS_URL", harness.server.url())
            .env("PARLOR_LEDGER_ACK_WAIT_SECS", ACK_WAIT_SECS)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the ledger binary starts");
        Self(child)
    }

    fn kill(&mut self) {
        self.0.kill().expect("kill -9");
        self.0.wait().expect("reaped");
    }
}

impl Drop for LedgerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.kill();
        }
    }
}

/// Waits until some ledger copy answers requests.
async fn until_answering(harness: &Harness) {
    let deadline = Instant::now() + DEADLINE;
    let body = serde_json::to_vec(&GetBalance {
        user_id: UserId::new(),
    })
    .expect("json");
    let mut pace = tokio::time::interval(Duration::from_millis(20));
    while harness
        .client
        .request(subject::LEDGER_BALANCE, body.clone().into())
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the ledger never answered");
        pace.tick().await;
    }
}

async fn ledger_messages(harness: &Harness) -> u64 {
    let js = async_nats::jetstream::new(harness.client.clone());
    let mut stream = js
        .get_stream(StreamName::Ledger.as_str())
        .await
        .expect("stream");
    stream.info().await.expect("info").state.messages
}

#[tokio::test]
async fn a_ledger_killed_mid_charge_and_restarted_charges_every_call_exactly_once() {
    let harness = Harness::start().await;
    let mut ledger = LedgerProcess::start(&harness);
    until_answering(&harness).await;

    let users: Vec<UserId> = (0..USERS).map(|_| UserId::new()).collect();
    join_all(users.iter().map(|&user| harness.grant(user, GRANT))).await;
    let calls: Vec<(ConversationId, UserId, i64)> = (0..CONVERSATIONS)
        .map(|i| {
            let cost = 300 + i64::try_from(i % 7).expect("small") * 50;
            (ConversationId::new(), users[i % USERS], cost)
        })
        .collect();
    for chunk in calls.chunks(200) {
        let holds = join_all(chunk.iter().map(|&(c, u, _)| harness.hold(u, c))).await;
        assert!(holds.iter().all(Result::is_ok));
    }
    let before = ledger_messages(&harness).await;
    for chunk in calls.chunks(100) {
        join_all(chunk.iter().map(|&(conversation, user, cost)| {
            harness.conversation(
                conversation,
                user,
                vec![requested(), ended(60_000), cost_reported(cost, 60_000)],
            )
        }))
        .await;
    }
    // Kill it once it is well into the charges, not before and not after.
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(5));
    while ledger_messages(&harness).await < before + 200 {
        assert!(
            Instant::now() < deadline,
            "the ledger never started charging"
        );
        pace.tick().await;
    }
    ledger.kill();
    let at_kill = ledger_messages(&harness).await;

    let mut restarted = LedgerProcess::start(&harness);
    until_answering(&harness).await;
    let mut expected: HashMap<UserId, i64> = users.iter().map(|&u| (u, GRANT)).collect();
    for &(_, user, cost) in &calls {
        *expected.get_mut(&user).expect("a user") -= cost;
    }
    for (&user, &available) in &expected {
        harness.await_balance(user, balance(available, 0)).await;
    }
    restarted.kill();

    let mut per_call: HashMap<ConversationId, Vec<&'static str>> = HashMap::new();
    for envelope in harness.ledger_events().await {
        let conversation = match &envelope.event {
            LedgerEvent::HoldCaptured(e) => e.conversation_id,
            LedgerEvent::ChargeAdjusted(e) => e.conversation_id,
            _ => continue,
        };
        per_call
            .entry(conversation)
            .or_default()
            .push(events::DomainEvent::event_type(&envelope.event));
    }
    assert_eq!(per_call.len(), CONVERSATIONS);
    assert!(
        per_call
            .values()
            .all(|types| types == &["hold.captured", "charge.adjusted"]),
        "every call captured and adjusted exactly once"
    );
    assert!(
        at_kill < ledger_messages(&harness).await,
        "the kill interrupted the charging ({at_kill} events at the kill)"
    );
    harness.log_balances().await;
}
