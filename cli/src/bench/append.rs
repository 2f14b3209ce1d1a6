//! Event append: `EventStore::append` (envelope encoding, `Nats-Msg-Id`,
//! `Nats-Expected-Last-Subject-Sequence`, the ack checked) against raw
//! JetStream publishes of already-encoded bytes with the same headers, each
//! awaiting its ack, one writer per aggregate, writers in parallel.

use std::time::Instant;

use async_nats::HeaderMap;
use async_nats::header::{NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, NATS_MESSAGE_ID};
use events::conversation::UserMessage;
use events::{ConversationEvent, ConversationId, CorrelationId, Envelope, EnvelopeMeta};
use eventstore::{EventStore, ExpectedVersion};
use futures::StreamExt;

use super::report::per_second;
use super::{Figure, Sizes};
use crate::load::own_nats;

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let (_dir, nats) = own_nats().await?;
    let measured = async {
        let store = EventStore::connect(&nats.url()).await?;
        store.ensure_streams().await?;
        let per_writer = (sizes.append_events / sizes.append_writers.max(1)).max(1);
        let writers = sizes.append_writers.max(1);
        let raw = raw_publish(&store, writers, per_writer).await?;
        let parlor = parlor_append(&store, writers, per_writer).await?;
        anyhow::Ok(vec![Figure::new(
            "append",
            format!("{writers} writers"),
            "events/s",
            parlor,
            "raw JetStream publish",
            raw,
        )])
    }
    .await;
    nats.stop().await;
    measured
}

fn envelopes(id: ConversationId, count: usize) -> Vec<Envelope<ConversationEvent>> {
    (0..count)
        .map(|i| {
            Envelope::new(
                EnvelopeMeta::new(id.to_string(), CorrelationId::new()),
                ConversationEvent::UserMessage(UserMessage {
                    text: format!("a user's message, turn {i}"),
                    time_in_call_ms: i as u64 * 1_000,
                }),
            )
        })
        .collect()
}

async fn parlor_append(store: &EventStore, writers: usize, per: usize) -> anyhow::Result<f64> {
    let work: Vec<_> = (0..writers)
        .map(|_| {
            let id = ConversationId::new();
            (id, envelopes(id, per))
        })
        .collect();
    let started = Instant::now();
    let done: Vec<anyhow::Result<()>> = futures::stream::iter(work)
        .map(|(id, events)| async move {
            let mut version = 0;
            for event in events {
                version = store
                    .append(
                        id,
                        ExpectedVersion::Exact(version),
                        std::slice::from_ref(&event),
                    )
                    .await?
                    .version;
            }
            Ok(())
        })
        .buffer_unordered(writers)
        .collect()
        .await;
    done.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    Ok(per_second((writers * per) as u64, started.elapsed()))
}

async fn raw_publish(store: &EventStore, writers: usize, per: usize) -> anyhow::Result<f64> {
    let js = async_nats::jetstream::new(store.client().clone());
    let work: Vec<_> = (0..writers)
        .map(|_| {
            let id = ConversationId::new();
            let encoded: Vec<_> = envelopes(id, per)
                .into_iter()
                .map(|e| (e.meta.id.to_string(), e.to_json()))
                .collect();
            (format!("conv.{id}"), encoded)
        })
        .collect();
    let started = Instant::now();
    let done: Vec<anyhow::Result<()>> = futures::stream::iter(work)
        .map(|(subject, encoded)| {
            let js = js.clone();
            async move {
                let mut version = 0;
                for (id, payload) in encoded {
                    let mut headers = HeaderMap::new();
                    headers.insert(NATS_MESSAGE_ID, id.as_str());
                    headers.insert(
                        NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                        version.to_string().as_str(),
                    );
                    version = js
                        .publish_with_headers(subject.clone(), headers, payload.into())
                        .await?
                        .await?
                        .sequence;
                }
                Ok(())
            }
        })
        .buffer_unordered(writers)
        .collect()
        .await;
    done.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    Ok(per_second((writers * per) as u64, started.elapsed()))
}
