//! The load's own reads of the log (stream sizes, the ledger's trial
//! balance), retried while JetStream cannot answer for a moment: a NATS
//! node that stops mid-load leaves its streams without a leader until the
//! cluster elects one, and a read made then fails though nothing is lost.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context;
use events::LedgerEvent;
use eventstore::{EventStore, ReplayFrom, StreamName};
use futures::TryStreamExt;

/// How long a read keeps trying: a leader election takes a few seconds.
const READ_WAIT: Duration = Duration::from_secs(30);
/// How long one attempt may take: a replay begun as a leader went can
/// stall rather than fail.
const ATTEMPT_WAIT: Duration = Duration::from_secs(10);
const READ_PAUSE: Duration = Duration::from_millis(250);

/// Messages in the conversation stream now.
pub(super) async fn stream_messages(store: &EventStore) -> anyhow::Result<u64> {
    retried("reading the conversation stream", || async {
        let mut stream = async_nats::jetstream::new(store.client().clone())
            .get_stream(StreamName::Conversations.as_str())
            .await?;
        Ok(stream.info().await?.state.messages)
    })
    .await
}

/// The sum of every posting of every ledger event: zero when the books
/// balance.
pub async fn trial_balance(store: &EventStore) -> anyhow::Result<i64> {
    retried("replaying the ledger for its trial balance", || async {
        let mut sum = 0i64;
        let mut messages = store
            .replay(StreamName::Ledger, ReplayFrom::Beginning)
            .await?;
        while let Some(message) = messages.try_next().await? {
            let envelope = message.decode::<LedgerEvent>()?;
            sum += envelope
                .event
                .postings()
                .iter()
                .map(|p| p.credits.get())
                .sum::<i64>();
        }
        Ok(sum)
    })
    .await
}

/// `read`, again from the start after each failure or stalled attempt,
/// until it succeeds or [`READ_WAIT`] has passed; then its last error.
async fn retried<T, F, Fut>(what: &'static str, mut read: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let deadline = Instant::now() + READ_WAIT;
    loop {
        let attempt = tokio::time::timeout(ATTEMPT_WAIT, read())
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {ATTEMPT_WAIT:?}")));
        match attempt {
            Ok(value) => return Ok(value),
            Err(error) if Instant::now() < deadline => {
                tracing::debug!(error = %error, "{what} failed; trying again");
                tokio::time::sleep(READ_PAUSE).await;
            }
            Err(error) => return Err(error).context(what),
        }
    }
}
