//! Durable subscriptions for services: each event is acked only after the
//! handler succeeded; a failed one is redelivered, in order.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{AckKind, Message};
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
    /// Handles events until `shutdown` completes. Each event is handled as
    /// it arrives; shutdown is noticed between events, never inside a
    /// handler.
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
                batch = self.request(IDLE_WAIT) => batch?,
            };
            let mut batch = std::pin::pin!(batch);
            let mut outcome = Outcome::default();
            loop {
                let next = tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    next = batch.next() => next,
                };
                let Some(message) = next else { break };
                self.handle(message, &mut handler, &mut outcome).await?;
            }
            if outcome.failed {
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
        let batch = self.request(Duration::ZERO).await?;
        let mut batch = std::pin::pin!(batch);
        let mut outcome = Outcome::default();
        while let Some(message) = batch.next().await {
            self.handle(message, &mut handler, &mut outcome).await?;
        }
        Ok(match outcome {
            Outcome {
                failed: true,
                handled,
                ..
            } => Step::Failed { handled },
            Outcome { handled: 0, .. } => Step::CaughtUp,
            Outcome { handled, .. } => Step::Advanced(handled),
        })
    }

    /// Asks for up to `max_in_flight` events, waiting up to `wait` for the
    /// first (not at all when zero); they stream in as the server sends them.
    async fn request(
        &self,
        wait: Duration,
    ) -> Result<impl futures::Stream<Item = Result<Message, Error>> + use<>, Error> {
        let unavailable = |e: &dyn std::fmt::Display| Error::Unavailable(format!("fetching: {e}"));
        let messages = if wait.is_zero() {
            self.consumer
                .fetch()
                .max_messages(self.config.max_in_flight)
                .messages()
                .await
                .map_err(|e| unavailable(&e))?
                .left_stream()
        } else {
            self.consumer
                .batch()
                .max_messages(self.config.max_in_flight)
                .expires(wait)
                .messages()
                .await
                .map_err(|e| unavailable(&e))?
                .right_stream()
        };
        Ok(messages.map(move |m| m.map_err(|e| Error::Unavailable(format!("fetching: {e}")))))
    }

    /// Handles one delivered event in order. After a failure in this batch
    /// every later event is nacked too, oldest first, so redelivery keeps
    /// the stream's order.
    async fn handle<F, Fut>(
        &self,
        message: Result<Message, Error>,
        handler: &mut F,
        outcome: &mut Outcome,
    ) -> Result<(), Error>
    where
        F: FnMut(LogMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        let message = message?;
        let nak = |message: Message| async move {
            message
                .ack_with(AckKind::Nak(Some(self.config.retry_delay)))
                .await
                .map_err(|e| Error::Unavailable(format!("nak: {e}")))
        };
        if outcome.failed {
            return nak(message).await;
        }
        let log = to_log_message(&message)?;
        let sequence = log.sequence;
        match handler(log).await {
            Ok(()) => {
                message
                    .double_ack()
                    .await
                    .map_err(|e| Error::Unavailable(format!("ack of {sequence}: {e}")))?;
                outcome.handled += 1;
                Ok(())
            }
            Err(error) => {
                tracing::warn!(
                    consumer = %self.config.durable,
                    sequence,
                    %error,
                    "handler failed; the event will be redelivered"
                );
                outcome.failed = true;
                nak(message).await
            }
        }
    }
}

/// What happened to one batch so far.
#[derive(Default)]
struct Outcome {
    handled: usize,
    failed: bool,
}
