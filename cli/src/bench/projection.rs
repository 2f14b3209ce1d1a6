//! Projection throughput next to raw JetStream replay measured in the same
//! run (also `cargo bench -p parlor --bench projection`): a log of
//! simulated conversations (both streams) is replayed raw (no decoding, the
//! baseline), rebuilt into fresh collections, and projected live from
//! nothing by `Projector::run`. The goal for the rebuild is ≥ 0.5×.

use std::time::{Duration, Instant};

use events::conversation::{
    AgentMessage, ConversationMode, EndReason, Ended, Requested, Started, UserMessage,
};
use events::ledger::UsageCharged;
use events::{
    AccountId, AgentId, ConversationEvent, ConversationId, CorrelationId, Credits, Envelope,
    EnvelopeMeta, LedgerEvent, Posting, SystemAccount, UserId,
};
use eventstore::{EventStore, ReplayFrom, StreamName};
use futures::TryStreamExt;
use mongo_memory::MongoMemory;
use projector::checkpoint::Checkpoints;
use projector::names::Names;
use projector::rebuild::{Options, log_size, rebuild_with};
use projector::{Conversations, Projector, Tuning};

use super::report::per_second;
use super::{Figure, Sizes};
use crate::load::own_nats;

/// Appends awaiting their acks at once: the client bounds those in flight.
const IN_FLIGHT: usize = 100;
/// How often the live run's progress is looked at.
const PACE: Duration = Duration::from_millis(10);
const BASELINE: &str = "raw JetStream replay";

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let (_dir, nats) = own_nats().await?;
    let mongo = MongoMemory::start().await?;
    let measured = measure(&nats.url(), &mongo.uri(), sizes).await;
    mongo.shutdown().await;
    nats.stop().await;
    measured
}

async fn measure(nats_url: &str, mongo_uri: &str, sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let store = EventStore::connect(nats_url).await?;
    store.ensure_streams().await?;
    let db = mongodb::Client::with_uri_str(mongo_uri)
        .await?
        .database("parlor_bench");
    write_log(&store, sizes.log_calls, sizes.log_messages).await?;
    let events = log_size(&store).await?;

    let started = Instant::now();
    let mut replayed = 0_u64;
    for stream in StreamName::ALL {
        let mut messages = std::pin::pin!(store.replay(stream, ReplayFrom::Beginning).await?);
        while messages.try_next().await?.is_some() {
            replayed += 1;
        }
    }
    let baseline = per_second(replayed, started.elapsed());

    let options = Options {
        into: Some("bench".into()),
        holder: "bench".into(),
        ..Options::default()
    };
    let started = Instant::now();
    let rebuilt = rebuild_with(&store, &db, Tuning::default(), &options, &mut |_| {}).await?;
    let rebuild = per_second(rebuilt.events, started.elapsed());

    let target = Conversations::new(&db, &Names::suffixed("_live_bench"));
    let checkpoints = Checkpoints::new(&db, target.name());
    let live = Projector::start(&store, target).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let watch = async {
        let mut pace = tokio::time::interval(PACE);
        loop {
            pace.tick().await;
            let mut at = 0;
            for stream in StreamName::ALL {
                at += checkpoints.load(stream).await.unwrap_or(0);
            }
            if at >= events {
                break started.elapsed();
            }
        }
    };
    let (ran, elapsed) = tokio::join!(
        live.run(async {
            let _ = stopped.await;
        }),
        async {
            let elapsed = watch.await;
            let _ = stop.send(());
            elapsed
        }
    );
    ran?;
    let projected = per_second(events, elapsed);
    Ok(vec![
        Figure::new(
            "rebuild",
            format!("{} events", rebuilt.events),
            "events/s",
            rebuild,
            BASELINE,
            baseline,
        ),
        Figure::new(
            "projector",
            format!("{events} events, live"),
            "events/s",
            projected,
            BASELINE,
            baseline,
        ),
    ])
}

/// Appends `calls` conversations of `messages` messages each, pipelined.
async fn write_log(store: &EventStore, calls: u64, messages: u64) -> anyhow::Result<()> {
    let js = async_nats::jetstream::new(store.client().clone());
    let agent: AgentId = "agent_bench".parse()?;
    let mut acks = Vec::new();
    for call in 0..calls {
        let (id, user) = (ConversationId::new(), UserId::new());
        let mut events = vec![
            ConversationEvent::Requested(Requested {
                mode: ConversationMode::Live,
                owner: None,
            }),
            ConversationEvent::Started(Started {
                elevenlabs_conversation_id: format!("conv_bench_{call}"),
                user_input_audio_format: None,
                agent_output_audio_format: None,
                text_only: false,
            }),
        ];
        for i in 0..messages {
            events.push(if i % 2 == 0 {
                ConversationEvent::UserMessage(UserMessage {
                    text: format!("thanks, line {i}"),
                    time_in_call_ms: i * 1_000,
                })
            } else {
                ConversationEvent::AgentMessage(AgentMessage {
                    text: format!("agent line {i}"),
                    time_in_call_ms: i * 1_000,
                    latency_ms: Some(200 + i % 400),
                    event_id: Some(i),
                })
            });
        }
        events.push(ConversationEvent::Ended(Ended {
            reason: EndReason::AgentEnded,
            duration_ms: messages * 1_000,
            close_code: Some(1000),
        }));
        for event in events {
            let meta = EnvelopeMeta::new(id.to_string(), CorrelationId::new())
                .for_user(user)
                .with_agent(agent.clone());
            let payload = Envelope::new(meta, event).to_json();
            acks.push(js.publish(format!("conv.{id}"), payload.into()).await?);
            if acks.len() >= IN_FLIGHT {
                for ack in acks.drain(..) {
                    ack.await?;
                }
            }
        }
        let account = AccountId::User(user);
        let credits = Credits::new(i64::try_from(messages).unwrap_or(0) * 7);
        let charged = LedgerEvent::UsageCharged(UsageCharged {
            conversation_id: id,
            credits,
            duration_ms: messages * 1_000,
            postings: Posting::transfer(account, AccountId::System(SystemAccount::Usage), credits)
                .to_vec(),
        });
        let meta = EnvelopeMeta::new(account.to_string(), CorrelationId::new()).for_user(user);
        acks.push(
            js.publish(
                format!("ledger.{account}"),
                Envelope::new(meta, charged).to_json().into(),
            )
            .await?,
        );
    }
    for ack in acks {
        ack.await?;
    }
    Ok(())
}
