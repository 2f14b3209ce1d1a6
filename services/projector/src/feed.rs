//! Both streams read live from a checkpoint by ordered consumers (no acks,
//! no shared durable state), merged into one stream of messages tagged with
//! their stream; each stream's order is kept.

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use eventstore::{EventStore, LogMessage, StreamName};
use futures::{Stream, StreamExt};

use crate::error::Error;

/// Every message of `stream` after `after` (0: from the start), then each
/// new one as it is stored, until the connection fails.
pub async fn follow(
    store: &EventStore,
    stream: StreamName,
    after: u64,
) -> Result<impl Stream<Item = Result<(StreamName, LogMessage), Error>> + use<>, Error> {
    let failed = move |e: &dyn std::fmt::Display| Error::Feed {
        stream: stream.as_str(),
        message: e.to_string(),
    };
    let deliver_policy = match after {
        0 => DeliverPolicy::All,
        n => DeliverPolicy::ByStartSequence {
            start_sequence: n.saturating_add(1),
        },
    };
    let consumer = async_nats::jetstream::new(store.client().clone())
        .get_stream(stream.as_str())
        .await
        .map_err(|e| failed(&e))?
        .create_consumer(OrderedConfig {
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| failed(&e))?;
    let messages = consumer.messages().await.map_err(|e| failed(&e))?;
    Ok(messages.map(move |message| {
        let message = message.map_err(|e| failed(&e))?;
        let info = message.info().map_err(|e| failed(&e))?;
        let log = LogMessage {
            sequence: info.stream_sequence,
            subject: message.subject.to_string(),
            payload: message.payload.clone(),
            delivered: u64::try_from(info.delivered).unwrap_or(1),
        };
        Ok((stream, log))
    }))
}
