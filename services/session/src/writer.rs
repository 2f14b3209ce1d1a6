//! The ordered writer of a live call's events (DESIGN §5: the relay never
//! waits for the log). The relay hands it events without waiting, into a
//! bounded queue; it publishes them in order with up to [`MAX_IN_FLIGHT`]
//! unacknowledged, and awaits the acks off the relay path, in order.
//!
//! While the log is unavailable it sends the unacknowledged events again
//! (their ids make a repeat a duplicate, not a second copy). When the log
//! stays unavailable past the configured outage bound, or the queue is
//! full, the call hears of it and ends with `log_unavailable`; it never
//! silently falls behind.

use std::time::Duration;

use events::{ConversationEvent, Envelope};
use eventstore::{Appended, Error, ExpectedVersion};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::log::ConversationLog;

/// Events the relay may hand over before the writer has published them.
pub const QUEUE: usize = 1024;
/// Events published and not yet acknowledged.
pub const MAX_IN_FLIGHT: usize = 128;
const RETRY_PAUSE: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the log is {QUEUE} events behind this call")]
    Full,
    #[error("the call's log writer has stopped")]
    Stopped,
}

/// A handle on one call's writer task.
pub struct Writer {
    queue: mpsc::Sender<ConversationEvent>,
    failed: watch::Receiver<bool>,
    task: JoinHandle<ConversationLog>,
}

impl Writer {
    pub fn spawn(log: ConversationLog, outage: Duration) -> Self {
        let (queue, events) = mpsc::channel(QUEUE);
        let (failed_tx, failed) = watch::channel(false);
        let task = tokio::spawn(run(log, events, failed_tx, outage));
        Self {
            queue,
            failed,
            task,
        }
    }

    /// Queues `event` after those before it; never waits.
    pub fn push(&self, event: ConversationEvent) -> Result<(), PushError> {
        self.queue.try_send(event).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => PushError::Full,
            mpsc::error::TrySendError::Closed(_) => PushError::Stopped,
        })
    }

    /// Resolves once the log has been unavailable past the outage bound
    /// (or the writer stopped). Cancel-safe, for `select!`.
    pub async fn failed(&mut self) {
        let _ = self.failed.wait_for(|failed| *failed).await;
    }

    /// Waits until everything queued is stored (or given up on), and hands
    /// the log back for what follows the call.
    pub async fn finish(self) -> Result<ConversationLog, tokio::task::JoinError> {
        drop(self.queue);
        self.task.await
    }
}

type Ack = (Envelope<ConversationEvent>, Result<Appended, Error>);

async fn run(
    mut log: ConversationLog,
    mut events: mpsc::Receiver<ConversationEvent>,
    failed: watch::Sender<bool>,
    outage: Duration,
) -> ConversationLog {
    let id = log.party().conversation_id;
    let mut in_flight: FuturesOrdered<futures::future::BoxFuture<'static, Ack>> =
        FuturesOrdered::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            event = events.recv(), if open && in_flight.len() < MAX_IN_FLIGHT => {
                let Some(event) = event else {
                    open = false;
                    continue;
                };
                // Only the first of a burst knows the version to expect; the
                // rest follow it in order on this connection.
                let expected = if in_flight.is_empty() {
                    ExpectedVersion::Exact(log.version())
                } else {
                    ExpectedVersion::Any
                };
                let envelope = log.envelope(event);
                let ack: Result<Appended, Error> = match log.store().send(id, expected, &envelope).await {
                    Ok(pending) => {
                        in_flight.push_back(Box::pin(async move {
                            let acked = pending.acked().await;
                            (envelope, acked)
                        }));
                        continue;
                    }
                    Err(e) => Err(e),
                };
                in_flight.push_back(Box::pin(async move { (envelope, ack) }));
            }
            Some((envelope, acked)) = in_flight.next() => match acked {
                Ok(appended) => log.stored(appended.version),
                Err(Error::Conflict { expected, actual }) => {
                    // Another writer closed this conversation (a survivor
                    // took it for lost): stop writing; the call ends.
                    tracing::error!(conversation_id = %id, expected, actual, "another writer touched the conversation; its live events stop here");
                    let _ = failed.send(true);
                    return log;
                }
                Err(error) => {
                    tracing::warn!(conversation_id = %id, %error, "log unavailable; sending the unacknowledged events again");
                    let mut again = vec![envelope];
                    while let Some((envelope, _)) = in_flight.next().await {
                        again.push(envelope);
                    }
                    for envelope in again {
                        if !store_until(&mut log, &envelope, outage).await {
                            let _ = failed.send(true);
                        }
                    }
                }
            },
        }
    }
    log
}

/// Appends one event again until it is stored or `outage` passes; false if
/// it was given up on (logged with the event, which is then lost).
async fn store_until(
    log: &mut ConversationLog,
    envelope: &Envelope<ConversationEvent>,
    outage: Duration,
) -> bool {
    let id = log.party().conversation_id;
    let deadline = Instant::now() + outage;
    loop {
        match log
            .store()
            .append(id, ExpectedVersion::Any, std::slice::from_ref(envelope))
            .await
        {
            Ok(appended) => {
                log.stored(appended.version);
                return true;
            }
            Err(error) if Instant::now() >= deadline => {
                tracing::error!(conversation_id = %id, event_id = %envelope.meta.id, event = %String::from_utf8_lossy(&envelope.to_json()), %error, "the log stayed unavailable; event lost");
                return false;
            }
            Err(_) => tokio::time::sleep(RETRY_PAUSE).await,
        }
    }
}
