//! Errors of the projector.

use events::ConversationId;
use mongodb::bson;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    EventLog(#[from] eventstore::Error),
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("encoding a conversation document: {0}")]
    Encode(#[from] bson::ser::Error),
    /// A stored document is not in the shape this projector writes; a
    /// rebuild replaces it.
    #[error("conversation {id}: stored document unreadable: {source}")]
    Unreadable {
        id: ConversationId,
        source: bson::de::Error,
    },
    /// Other writers kept changing the document between read and write.
    #[error("conversation {id}: still contended after {attempts} attempts")]
    Contended { id: ConversationId, attempts: usize },
    /// An event handler failed during a drain; the event will be redelivered.
    #[error("{durable}: an event failed after {handled} were projected")]
    Stalled { durable: String, handled: usize },
}
