//! `cargo bench -p ledger`: the ledger's booking rate against raw
//! JetStream appends measured in the same run on the same server.
//!
//! * baseline — `EventStore::append` of one event at a time with the
//!   expected version, to as many aggregates at once as the ledger handles
//!   conversation events at once: the ceiling of the ledger's own appends.
//! * ledger — a backlog of ended-and-reported conversations charged by a
//!   running ledger copy: ledger events appended per second, from start to
//!   the last one.
//!
//! Prints both rates and their ratio (the goal is at least 0.5).

use std::time::{Duration, Instant};

use events::command::{GrantCredits, HoldCredits, Reply, subject};
use events::conversation::{ConversationEvent, CostReported, EndReason, Ended};
use events::ledger::{AccountOpened, LedgerEvent};
use events::{
    AccountId, ConversationId, CorrelationId, Credits, Envelope, EnvelopeMeta, EventId, UserId,
};
use eventstore::{EventStore, ExpectedVersion, StreamName};
use futures::StreamExt;
use ledger::{Config, Ledger, Pricing};
use testkit::NatsServer;

const USERS: usize = 200;
const CONVERSATIONS: usize = 4_000;
const BASELINE_EVENTS: usize = 8_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let store = EventStore::connect(&server.url()).await?;
    store.ensure_streams().await?;

    let baseline = baseline(&store).await?;
    let (events, elapsed) = ledger_run(&server, &store).await?;
    let rate = events as f64 / elapsed.as_secs_f64();
    report(baseline, rate, events, elapsed);
    Ok(())
}

#[allow(clippy::print_stdout)]
fn report(baseline: f64, rate: f64, events: u64, elapsed: Duration) {
    println!(
        "raw JetStream append (expected version, {} at once): {baseline:>9.0} events/s",
        ledger::consumer::CONCURRENCY
    );
    println!(
        "ledger booking ({events} events, 2 postings each, in {elapsed:.2?}): {rate:>9.0} events/s, {:.0} postings/s",
        rate * 2.0
    );
    println!("ratio ledger / raw: {:.2} (goal >= 0.50)", rate / baseline);
}

/// Appends per second, one event at a time per aggregate, aggregates in parallel.
async fn baseline(store: &EventStore) -> anyhow::Result<f64> {
    let aggregates: Vec<UserId> = (0..ledger::consumer::CONCURRENCY)
        .map(|_| UserId::new())
        .collect();
    let per = BASELINE_EVENTS / aggregates.len();
    let started = Instant::now();
    futures::stream::iter(aggregates)
        .map(|user| async move {
            let account = AccountId::User(user);
            let mut version = 0;
            for _ in 0..per {
                let envelope = Envelope::new(
                    EnvelopeMeta::new(account.to_string(), CorrelationId::new()).for_user(user),
                    LedgerEvent::AccountOpened(AccountOpened { account }),
                );
                version = store
                    .append(account, ExpectedVersion::Exact(version), &[envelope])
                    .await?
                    .version;
            }
            anyhow::Ok(())
        })
        .buffer_unordered(usize::MAX)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<()>, _>>()?;
    Ok((per * ledger::consumer::CONCURRENCY) as f64 / started.elapsed().as_secs_f64())
}

/// Ledger events appended per second while a copy charges a backlog.
async fn ledger_run(server: &NatsServer, store: &EventStore) -> anyhow::Result<(u64, Duration)> {
    let client = store.client().clone();
    let setup = Ledger::start(&Config::new(server.url()), Pricing::default()).await?;
    let users: Vec<UserId> = (0..USERS).map(|_| UserId::new()).collect();
    let calls: Vec<(ConversationId, UserId)> = (0..CONVERSATIONS)
        .map(|i| (ConversationId::new(), users[i % USERS]))
        .collect();
    for &user in &users {
        let grant = GrantCredits {
            grant_id: EventId::new(),
            user_id: user,
            credits: Credits::new(10_000_000),
            reason: None,
        };
        ask(&client, subject::LEDGER_GRANT, &grant).await?;
    }
    futures::stream::iter(&calls)
        .map(|&(conversation, user)| {
            let hold = HoldCredits {
                conversation_id: conversation,
                user_id: user,
                agent_id: "agent_bench".parse().expect("agent id"),
                correlation_id: CorrelationId::new(),
            };
            let client = client.clone();
            async move { ask(&client, subject::LEDGER_HOLD, &hold).await }
        })
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<()>, _>>()?;
    futures::stream::iter(&calls)
        .map(|&(conversation, user)| async move {
            let events = [
                ConversationEvent::Ended(Ended {
                    reason: EndReason::AgentEnded,
                    duration_ms: 60_000,
                    close_code: None,
                }),
                ConversationEvent::CostReported(CostReported {
                    elevenlabs_conversation_id: "conv_bench".to_owned(),
                    credits: Credits::new(420),
                    call_duration_ms: 60_000,
                    charging: None,
                }),
            ]
            .map(|event| {
                Envelope::new(
                    EnvelopeMeta::new(conversation.to_string(), CorrelationId::new())
                        .for_user(user),
                    event,
                )
            });
            store
                .append(conversation, ExpectedVersion::Exact(0), &events)
                .await
        })
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;

    let before = ledger_messages(store).await?;
    // Each call: the capture, then the adjustment (a one-minute hold, all used).
    let expected = before + 2 * CONVERSATIONS as u64;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let running = tokio::spawn(setup.run(async {
        let _ = stopped.await;
    }));
    let mut last = before;
    while last < expected {
        tokio::time::sleep(Duration::from_millis(2)).await;
        last = ledger_messages(store).await?;
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "the ledger stalled at {last}/{expected}"
        );
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    running.await??;
    Ok((last - before, elapsed))
}

async fn ask<T: serde::Serialize>(
    client: &async_nats::Client,
    subject: &str,
    body: &T,
) -> anyhow::Result<()> {
    let reply = client
        .request(subject.to_owned(), serde_json::to_vec(body)?.into())
        .await?;
    match serde_json::from_slice::<Reply<serde_json::Value>>(&reply.payload)?.into_result() {
        Ok(_) => Ok(()),
        Err(refusal) => anyhow::bail!("{subject} refused: {}", refusal.message),
    }
}

async fn ledger_messages(store: &EventStore) -> anyhow::Result<u64> {
    let js = async_nats::jetstream::new(store.client().clone());
    let mut stream = js.get_stream(StreamName::Ledger.as_str()).await?;
    Ok(stream.info().await?.state.messages)
}
