//! Durable subscriptions for services: each event is acked only after the
//! handler succeeded; a failed one is redelivered, in order.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use futures::StreamExt;

use crate::error::Error;
use crate::read::{LogMessage, to_log_message};
use crate::store::EventStore;
use crate::stream::StreamName;

/// What a handler returns on failure; any error type converts into it.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Unacknowledged events one subscriber may hold at once.
pub const MAX_IN_FLIGHT: usize = 256;
/// How long the server waits for an ack before redelivering to anyone.
pub const ACK_WAIT: Duration = Duration::from_secs(30);
/// How long a batch request waits for new events when caught up.
const IDLE_WAIT: Duration = Duration::from_secs(1);

#[derive(Clone, Debug)]
pub struct SubscriptionConfig {
    pub stream: StreamName,
    /// The durable consumer's name: one per service (copies share it).
    pub durable: String,
    /// Only these subjects, e.g. `conv.*`; all of the stream when `None`.
    pub filter_subject: Option<String>,
    pub max_in_flight: usize,
    pub ack_wait: Duration,
    /// Delay before a failed event is redelivered.
    pub retry_delay: Duration,
}

impl SubscriptionConfig {
    pub fn new(stream: StreamName, durable: impl Into<String>) -> Self {
        Self {
            stream,
            durable: durable.into(),
            filter_subject: None,
            max_in_flight: MAX_IN_FLIGHT,
            ack_wait: ACK_WAIT,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// What one [`Subscription::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Handled and acked this many events.
    Advanced(usize),
    /// Nothing was waiting.
    CaughtUp,
    /// The handler failed on an event after `handled` others succeeded; it
    /// and the rest of the batch will be redelivered.
    Failed { handled: usize },
}

/// A durable consumer bound to one service.
pub struct Subscription {
    consumer: PullConsumer,
    config: SubscriptionConfig,
}

impl EventStore {
    /// Creates (or rejoins) the durable consumer `config.durable`.
    pub async fn subscribe(&self, config: SubscriptionConfig) -> Result<Subscription, Error> {
        let stream = self
            .jetstream()
            .get_stream(config.stream.as_str())
            .await
            .map_err(|e| Error::Unavailable(format!("stream {}: {e}", config.stream)))?;
        let consumer = stream
            .get_or_create_consumer(
                &config.durable,
                pull::Config {
                    durable_name: Some(config.durable.clone()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: config.ack_wait,
                    max_ack_pending: i64::try_from(config.max_in_flight).unwrap_or(i64::MAX),
                    deliver_policy: DeliverPolicy::All,
                    filter_subject: config.filter_subject.clone().unwrap_or_default(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| Error::Unavailable(format!("consumer {}: {e}", config.durable)))?;
        Ok(Subscription { consumer, config })
    }
}

impl Subscription {
    /// Handles events until `shutdown` completes; the event being handled
    /// then is finished and acked first.
    pub async fn run<F, Fut>(
        &self,
        shutdown: impl Future<Output = ()>,
        mut handler: F,
    ) -> Result<(), Error>
    where
        F: FnMut(LogMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        tokio::pin!(shutdown);
        loop {
            let batch = tokio::select! {
                () = &mut shutdown => return Ok(()),
                batch = self.fetch(IDLE_WAIT) => batch?,
            };
            if let Step::Failed { .. } = self.handle_batch(batch, &mut handler).await? {
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    () = tokio::time::sleep(self.config.retry_delay) => {}
                }
            }
        }
    }

    /// Handles what is waiting now, without waiting for more: the one step
    /// tests drive to drain a subscriber deterministically.
    pub async fn step<F, Fut>(&self, mut handler: F) -> Result<Step, Error>
    where
        F: FnMut(LogMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        let batch = self.fetch(Duration::ZERO).await?;
        self.handle_batch(batch, &mut handler).await
    }

    async fn fetch(&self, wait: Duration) -> Result<Vec<async_nats::jetstream::Message>, Error> {
        let unavailable = |e: &dyn std::fmt::Display| Error::Unavailable(format!("fetching: {e}"));
        let messages = if wait.is_zero() {
            self.consumer
                .fetch()
                .max_messages(self.config.max_in_flight)
                .messages()
                .await
                .map_err(|e| unavailable(&e))?
                .collect::<Vec<_>>()
                .await
        } else {
            self.consumer
                .batch()
                .max_messages(self.config.max_in_flight)
                .expires(wait)
                .messages()
                .await
                .map_err(|e| unavailable(&e))?
                .collect::<Vec<_>>()
                .await
        };
        messages
            .into_iter()
            .map(|m| m.map_err(|e| unavailable(&e)))
            .collect()
    }

    async fn handle_batch<F, Fut>(
        &self,
        batch: Vec<async_nats::jetstream::Message>,
        handler: &mut F,
    ) -> Result<Step, Error>
    where
        F: FnMut(LogMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        if batch.is_empty() {
            return Ok(Step::CaughtUp);
        }
        for (handled, message) in batch.iter().enumerate() {
            let log = to_log_message(message)?;
            let sequence = log.sequence;
            match handler(log).await {
                Ok(()) => message
                    .double_ack()
                    .await
                    .map_err(|e| Error::Unavailable(format!("ack of {sequence}: {e}")))?,
                Err(error) => {
                    tracing::warn!(
                        consumer = %self.config.durable,
                        sequence,
                        %error,
                        "handler failed; the event will be redelivered"
                    );
                    // Nak the failed event and everything after it, oldest
                    // first, so redelivery keeps the stream's order.
                    let delay = Some(self.config.retry_delay);
                    for rest in &batch[handled..] {
                        rest.ack_with(AckKind::Nak(delay))
                            .await
                            .map_err(|e| Error::Unavailable(format!("nak: {e}")))?;
                    }
                    return Ok(Step::Failed { handled });
                }
            }
        }
        Ok(Step::Advanced(batch.len()))
    }
}
