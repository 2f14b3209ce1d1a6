//! A bounded, ordered read of part of a stream: the messages that match at
//! the moment the read starts, then it ends. Shared by `load` and `replay`.

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use bytes::Bytes;
use events::{DomainEvent, Envelope, RawEnvelope};
use futures::{Stream, StreamExt};

use crate::error::Error;
use crate::store::EventStore;
use crate::stream::StreamName;

/// One message as read from the log, not yet decoded, so a reader can skip
/// or report an event it cannot decode instead of stopping at it.
#[derive(Clone, Debug)]
pub struct LogMessage {
    pub sequence: u64,
    pub subject: String,
    pub payload: Bytes,
    /// 1 on first delivery; more when redelivered to a durable subscriber.
    pub delivered: u64,
}

impl LogMessage {
    pub fn decode<E: DomainEvent>(&self) -> Result<Envelope<E>, Error> {
        Ok(Envelope::from_json(&self.payload)?)
    }

    pub fn raw(&self) -> Result<RawEnvelope, Error> {
        Ok(RawEnvelope::from_json(&self.payload)?)
    }
}

impl EventStore {
    /// The messages of `stream` (only `filter` subjects, if given) from
    /// `deliver`, as they are when the read starts.
    pub(crate) async fn read_snapshot(
        &self,
        stream: StreamName,
        filter: Option<String>,
        deliver: DeliverPolicy,
    ) -> Result<impl Stream<Item = Result<LogMessage, Error>> + use<>, Error> {
        let handle = self
            .jetstream()
            .get_stream(stream.as_str())
            .await
            .map_err(|e| Error::Unavailable(format!("stream {stream}: {e}")))?;
        let mut consumer = handle
            .create_consumer(OrderedConfig {
                filter_subject: filter.unwrap_or_default(),
                deliver_policy: deliver,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Unavailable(format!("reading {stream}: {e}")))?;
        let count = consumer
            .info()
            .await
            .map_err(|e| Error::Unavailable(format!("reading {stream}: {e}")))?
            .num_pending;
        let messages = if count == 0 {
            None
        } else {
            Some(
                consumer
                    .messages()
                    .await
                    .map_err(|e| Error::Unavailable(format!("reading {stream}: {e}")))?,
            )
        };
        let take = usize::try_from(count).unwrap_or(usize::MAX);
        Ok(futures::stream::iter(messages)
            .flatten()
            .take(take)
            .map(|message| {
                message
                    .map_err(|e| Error::Unavailable(e.to_string()))
                    .and_then(|m| to_log_message(&m))
            }))
    }
}

pub(crate) fn to_log_message(
    message: &async_nats::jetstream::Message,
) -> Result<LogMessage, Error> {
    let info = message
        .info()
        .map_err(|e| Error::jetstream(format!("message info: {e}")))?;
    Ok(LogMessage {
        sequence: info.stream_sequence,
        subject: message.subject.to_string(),
        payload: message.payload.clone(),
        delivered: u64::try_from(info.delivered).unwrap_or(1),
    })
}
