//! Following the LEDGER stream after the start-up replay, so this copy's
//! state also holds what other copies append (balances read here stay
//! current). Our own appends come back too and are skipped by version.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use events::ledger::LedgerEvent;
use events::{AccountId, Envelope};
use eventstore::StreamName;
use futures::StreamExt;

use crate::book::Book;

/// Pause before trying again when the stream cannot be read (NATS down).
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// Applies every LEDGER event after sequence `after`, forever.
pub async fn follow(book: Arc<Book>, mut after: u64) {
    loop {
        match follow_once(&book, &mut after).await {
            Ok(()) => tracing::debug!(after, "ledger tail ended; following again"),
            Err(error) => tracing::warn!(after, %error, "ledger tail interrupted"),
        }
        tokio::time::sleep(RETRY_DELAY).await;
    }
}

async fn follow_once(book: &Book, after: &mut u64) -> Result<(), async_nats::Error> {
    let js = async_nats::jetstream::new(book.store().client().clone());
    let stream = js.get_stream(StreamName::Ledger.as_str()).await?;
    let deliver_policy = match *after {
        0 => DeliverPolicy::All,
        last => DeliverPolicy::ByStartSequence {
            start_sequence: last + 1,
        },
    };
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_policy,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let sequence = message.info()?.stream_sequence;
        *after = sequence;
        // Our own appends come back already applied: skip them undecoded.
        let account = message
            .subject
            .strip_prefix(StreamName::Ledger.subject_prefix())
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|id| id.parse::<AccountId>().ok());
        if account.is_some_and(|account| book.read(|state| state.version(account)) >= sequence) {
            continue;
        }
        match Envelope::<LedgerEvent>::from_json(&message.payload) {
            Ok(envelope) => {
                book.apply(sequence, &envelope);
            }
            Err(error) => tracing::error!(sequence, %error, "undecodable ledger event skipped"),
        }
    }
    Ok(())
}
