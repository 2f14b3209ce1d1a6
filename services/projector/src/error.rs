//! Errors of the projector.

use events::ConversationId;
use mongodb::bson;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    EventLog(#[from] eventstore::Error),
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("encoding a document: {0}")]
    Encode(#[from] bson::ser::Error),
    #[error("reading an encoded document: {0}")]
    Encoded(#[from] bson::raw::Error),
    /// A stored document is not in the shape this projector writes; a
    /// rebuild replaces it.
    #[error("conversation {id}: stored document unreadable: {source}")]
    Unreadable {
        id: ConversationId,
        source: bson::de::Error,
    },
    /// MongoDB refused one write of a batch for a reason other than a race.
    #[error("mongodb refused a write (code {code}): {message}")]
    WriteRefused { code: i32, message: String },
    /// Other writers kept changing a document between read and write.
    #[error("conversation {id}: still contended after {attempts} attempts")]
    Contended { id: ConversationId, attempts: usize },
    /// A rebuild paused or swapped the target; live projection resumes
    /// from the checkpoints it left.
    #[error("the target is being rebuilt")]
    Swapped,
    /// A live batch outlasted [`crate::control::BATCH_LIMIT`] and was given
    /// up (a pausing rebuild stops waiting for it); it is retried from the
    /// checkpoints, keeping what it wrote.
    #[error("a batch took longer than {limit_ms} ms")]
    BatchTooSlow { limit_ms: u128 },
    /// Another rebuild of the target is under way.
    #[error("another rebuild of {target} is under way")]
    RebuildBusy { target: String },
    /// A task decoding or folding events ended abnormally.
    #[error("a projection task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Reading a stream live failed.
    #[error("reading {stream} live: {message}")]
    Feed {
        stream: &'static str,
        message: String,
    },
}
