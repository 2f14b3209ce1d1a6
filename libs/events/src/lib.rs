//! Parlor's domain events: the envelope every message on the log carries, the
//! typed conversation and ledger events, the id and money newtypes they are
//! made of, and the upcasters that keep old schemas readable.
//!
//! This crate owns the *shape* of what crosses service boundaries: what is
//! written to NATS JetStream (DESIGN §2) and the commands of DESIGN §6.
//! It never does I/O: appending, loading and subscribing live in `eventstore`.
//!
//! # Layout
//!
//! * [`ids`] — `ConversationId` (24-hex ObjectId), `UserId`, `AgentId`,
//!   `AccountId`, `EventId` (UUID v7), `CorrelationId`.
//! * [`credits`] — `Credits`, integer money, and `Posting`, one leg of a
//!   double-entry movement.
//! * [`command`] — request/reply bodies between services on core NATS
//!   (DESIGN §6), with the `{"error": {code, message}}` refusal shape.
//! * [`conversation`] — `ConversationEvent`, everything that happens to a call.
//! * [`ledger`] — `LedgerEvent`, balanced sets of postings.
//! * [`envelope`] — `Envelope<E>`: metadata + typed event; encode/decode.
//! * [`upcast`] — old `schema` versions rewritten to the current one on read.
//! * [`error`] — `DecodeError`, which names the type and version it refused.

pub mod command;
pub mod conversation;
pub mod credits;
pub mod envelope;
pub mod error;
pub mod ids;
pub mod ledger;
pub mod upcast;

pub use conversation::ConversationEvent;
pub use credits::{Credits, Posting};
pub use envelope::{DomainEvent, Envelope, EnvelopeMeta, RawEnvelope};
pub use error::{DecodeError, IdError};
pub use ids::{AccountId, AgentId, ConversationId, CorrelationId, EventId, SystemAccount, UserId};
pub use ledger::LedgerEvent;
