//! Appending one conversation's events: the call task is its aggregate's
//! only writer, so it keeps the version in memory and never loads. This is
//! the one-at-a-time path (before and after the live call); while the call
//! runs, `writer` pipelines.

use std::time::Duration;

use chrono::{DateTime, Utc};
use events::{
    AgentId, ConversationEvent, ConversationId, CorrelationId, Envelope, EnvelopeMeta, EventId,
    UserId,
};
use eventstore::{Error, EventStore, ExpectedVersion};

/// Attempts at one append while the log is unavailable (NATS restarting).
const APPEND_ATTEMPTS: u32 = 8;
const APPEND_BACKOFF: Duration = Duration::from_millis(100);

/// Who a conversation belongs to: copied onto every event's envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub correlation_id: CorrelationId,
}

/// The writer of one conversation's events.
pub struct ConversationLog {
    store: EventStore,
    party: Party,
    version: u64,
    last_event: Option<EventId>,
}

impl ConversationLog {
    pub fn new(store: EventStore, party: Party, version: u64) -> Self {
        Self {
            store,
            party,
            version,
            last_event: None,
        }
    }

    pub fn party(&self) -> &Party {
        &self.party
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// The envelope of the next event: the party's ids, caused by the
    /// event before it (stored or still in flight).
    pub fn envelope(&mut self, event: ConversationEvent) -> Envelope<ConversationEvent> {
        let party = &self.party;
        let mut meta = EnvelopeMeta::new(party.conversation_id.to_string(), party.correlation_id)
            .for_user(party.user_id)
            .with_agent(party.agent_id.clone());
        if let Some(cause) = self.last_event {
            meta = meta.caused_by(cause);
        }
        let envelope = Envelope::new(meta, event);
        self.last_event = Some(envelope.meta.id);
        envelope
    }

    /// An event was stored at `version`.
    pub fn stored(&mut self, version: u64) {
        self.version = version;
    }

    /// Appends `event` after everything this writer appended before. A
    /// retry after an outage reuses the event id, so it cannot be stored
    /// twice. A conflict means another writer touched the conversation
    /// (a surviving copy closed it as lost): the caller stops.
    pub async fn append(&mut self, event: ConversationEvent) -> Result<(), Error> {
        let envelope = self.envelope(event);
        self.append_envelope(envelope).await
    }

    /// [`append`](Self::append) for a fact that happened at `occurred_at`
    /// rather than now (a client-side call's start, reported after it).
    pub async fn append_at(
        &mut self,
        event: ConversationEvent,
        occurred_at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut envelope = self.envelope(event);
        envelope.meta.occurred_at = occurred_at;
        self.append_envelope(envelope).await
    }

    async fn append_envelope(
        &mut self,
        envelope: Envelope<ConversationEvent>,
    ) -> Result<(), Error> {
        let id = self.party.conversation_id;
        let mut attempt = 1;
        let appended = loop {
            match self
                .store
                .append(
                    id,
                    ExpectedVersion::Exact(self.version),
                    std::slice::from_ref(&envelope),
                )
                .await
            {
                Ok(appended) => break appended,
                Err(Error::Unavailable(reason)) if attempt < APPEND_ATTEMPTS => {
                    tracing::warn!(conversation_id = %id, %reason, attempt, "log unavailable; retrying");
                    tokio::time::sleep(APPEND_BACKOFF * attempt).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        self.stored(appended.version);
        Ok(())
    }
}
