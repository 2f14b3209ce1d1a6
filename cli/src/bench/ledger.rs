//! Ledger postings: the ledger's booking rate against raw JetStream appends
//! measured in the same run on the same server (also `cargo bench -p parlor
//! --bench ledger`).
//!
//! * baseline — `EventStore::append` of one event at a time with the
//!   expected version, to as many aggregates at once as the ledger handles
//!   conversation events at once: the ceiling of the ledger's own appends.
//! * ledger — a backlog of ended-and-reported conversations charged by a
//!   running ledger copy: ledger events appended per second, from start to
//!   the last one. Each event carries two postings.
//!
//! The goal is a ratio of at least 0.5.

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

use super::report::per_second;
use super::{Figure, Sizes};
use crate::load::own_nats;

/// Users the conversations are spread over.
const USERS: usize = 200;

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let (_dir, nats) = own_nats().await?;
    let measured = async {
        let store = EventStore::connect(&nats.url()).await?;
        store.ensure_streams().await?;
        let baseline = baseline(&store, sizes.ledger_baseline_events).await?;
        let (events, elapsed) = ledger_run(&nats.url(), &store, sizes.ledger_conversations).await?;
        let rate = per_second(events, elapsed);
        anyhow::Ok(vec![Figure::new(
            "ledger",
            format!("{events} events, 2 postings each"),
            "events/s",
            rate,
            "raw append (expected version)",
            baseline,
        )])
    }
    .await;
    nats.stop().await;
    measured
}

/// Appends per second, one event at a time per aggregate, aggregates in parallel.
async fn baseline(store: &EventStore, events: usize) -> anyhow::Result<f64> {
    let aggregates: Vec<UserId> = (0..ledger::consumer::CONCURRENCY)
        .map(|_| UserId::new())
        .collect();
    let per = (events / aggregates.len()).max(1);
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
    Ok(per_second(
        (per * ledger::consumer::CONCURRENCY) as u64,
        started.elapsed(),
    ))
}

/// Ledger events appended per second while a copy charges a backlog.
async fn ledger_run(
    nats_url: &str,
    store: &EventStore,
    conversations: usize,
) -> anyhow::Result<(u64, Duration)> {
    let client = store.client().clone();
    let setup = Ledger::start(&Config::new(nats_url.to_owned()), Pricing::default()).await?;
    let users: Vec<UserId> = (0..USERS.min(conversations.max(1)))
        .map(|_| UserId::new())
        .collect();
    let calls: Vec<(ConversationId, UserId)> = (0..conversations)
        .map(|i| (ConversationId::new(), users[i % users.len()]))
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
    let expected = before + 2 * conversations as u64;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let running = tokio::spawn(setup.run(async {
        let _ = stopped.await;
    }));
    let mut last = before;
    let mut pace = tokio::time::interval(Duration::from_millis(2));
    while last < expected {
        pace.tick().await;
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
