//! Errors of the event log.

use events::DecodeError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// Someone else appended to the aggregate since the writer read it.
    /// The writer reloads and decides again; nothing was overwritten.
    #[error("conflict: expected version {expected}, the aggregate is at {actual}")]
    Conflict { expected: u64, actual: u64 },
    /// NATS or JetStream did not answer (down, restarting, timed out).
    /// Retrying the same append is safe: event ids deduplicate it.
    #[error("event log unavailable: {0}")]
    Unavailable(String),
    /// A stored event could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An append was asked to store an event under the wrong aggregate.
    #[error("event {event_id} belongs to aggregate `{event_aggregate}`, not `{aggregate}`")]
    WrongAggregate {
        event_id: String,
        event_aggregate: String,
        aggregate: String,
    },
    /// `PARLOR_STREAM_REPLICAS` is not a replica count JetStream allows.
    #[error("PARLOR_STREAM_REPLICAS `{0}` is not a whole number from 1 to 5")]
    Replicas(String),
    /// JetStream refused a request for another reason.
    #[error("event log: {0}")]
    JetStream(String),
}

impl Error {
    pub(crate) fn jetstream(e: impl std::fmt::Display) -> Self {
        Self::JetStream(e.to_string())
    }
}
