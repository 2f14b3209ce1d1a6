//! Errors of decoding events and parsing ids.

use thiserror::Error;

/// Why an event read from the log could not be turned into a typed event.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The bytes are not an envelope at all.
    #[error("malformed envelope: {0}")]
    Envelope(#[source] serde_json::Error),
    /// A `type` this code does not know (written by a newer service, or a typo).
    #[error("unknown event type `{event_type}` (schema {schema})")]
    UnknownType { event_type: String, schema: u32 },
    /// A known type written with a schema newer than this code understands.
    #[error(
        "event type `{event_type}` has schema {schema}, newer than the {known} this code knows"
    )]
    NewerSchema {
        event_type: String,
        schema: u32,
        known: u32,
    },
    /// A known type and schema whose `data` does not have the expected shape.
    #[error("event type `{event_type}` schema {schema}: invalid data: {source}")]
    InvalidData {
        event_type: String,
        schema: u32,
        #[source]
        source: serde_json::Error,
    },
    /// A ledger event whose postings do not sum to zero: never applied.
    #[error("event type `{event_type}` schema {schema}: postings do not sum to zero")]
    Unbalanced { event_type: String, schema: u32 },
    /// An upcaster met data it cannot rewrite.
    #[error("event type `{event_type}` schema {schema}: cannot upcast: {reason}")]
    Upcast {
        event_type: String,
        schema: u32,
        reason: String,
    },
}

/// A string that should have been an id was not.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IdError {
    #[error("`{0}` is not a 24-hex-digit ObjectId")]
    NotObjectId(String),
    #[error("`{0}` is not a valid agent id (1-128 chars of letters, digits, `_` or `-`)")]
    Agent(String),
    #[error("`{0}` is not a valid account id (`user-<24 hex>` or `system-<name>`)")]
    Account(String),
}
