//! The whole log as finance reads it: every ledger and conversation event
//! with its stream sequence. The reports ([`crate::reconcile`],
//! [`crate::trail`], [`crate::reprice`]) are pure functions of this.

use events::conversation::ConversationEvent;
use events::ledger::LedgerEvent;
use events::{DomainEvent, Envelope};
use eventstore::{EventStore, ReplayFrom, StreamName};
use futures::TryStreamExt;

/// One event read from the log, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged<E> {
    pub sequence: u64,
    pub envelope: Envelope<E>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub ledger: Vec<Logged<LedgerEvent>>,
    pub conversations: Vec<Logged<ConversationEvent>>,
}

impl History {
    /// Reads both streams from the start. An event that does not decode is
    /// logged and left out (it cannot be booked either).
    pub async fn load(store: &EventStore) -> Result<Self, eventstore::Error> {
        Ok(Self {
            ledger: read(store, StreamName::Ledger).await?,
            conversations: read(store, StreamName::Conversations).await?,
        })
    }
}

async fn read<E: DomainEvent>(
    store: &EventStore,
    stream: StreamName,
) -> Result<Vec<Logged<E>>, eventstore::Error> {
    let messages = store.replay(stream, ReplayFrom::Beginning).await?;
    let mut messages = std::pin::pin!(messages);
    let mut events = Vec::new();
    while let Some(message) = messages.try_next().await? {
        match message.decode::<E>() {
            Ok(envelope) => events.push(Logged {
                sequence: message.sequence,
                envelope,
            }),
            Err(error) => tracing::error!(
                %stream,
                sequence = message.sequence,
                %error,
                "undecodable event left out of the report"
            ),
        }
    }
    Ok(events)
}
