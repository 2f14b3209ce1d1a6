//! The event log: NATS JetStream streams `CONVERSATIONS` (`conv.<id>`) and
//! `LEDGER` (`ledger.<account>`) as DESIGN §2 fixes them.
//!
//! It owns how events are appended (deduplicated by `Nats-Msg-Id`, guarded by
//! `Nats-Expected-Last-Subject-Sequence`), loaded per aggregate, replayed per
//! stream and delivered to durable subscribers. It never interprets events:
//! what they mean belongs to the services.
//!
//! # Layout
//!
//! * [`store`] — `EventStore`: a connection and its JetStream context.
//! * [`stream`] — the two streams, their configuration (replicas from
//!   `PARLOR_STREAM_REPLICAS`) and `ensure_streams`.
//! * [`family`] — which event enum lives in which stream, under which subject.
//! * [`append`] — `append(aggregate, expected_version, events)`, and `send`
//!   for a single writer that pipelines (`PendingAppend`).
//! * [`load`] — `load(aggregate)`: one aggregate's events and version.
//! * [`read`] — `LogMessage`, and the bounded ordered read behind load/replay.
//! * [`replay`] — an ordered read of a whole stream from a sequence or time.
//! * [`subscribe`] — durable, explicitly acked, redelivering subscriptions.
//! * [`error`] — `Error`, with `Conflict { expected, actual }`.

pub mod append;
pub mod error;
pub mod family;
pub mod load;
pub mod read;
pub mod replay;
pub mod store;
pub mod stream;
pub mod subscribe;

pub use append::{Appended, ExpectedVersion, PendingAppend};
pub use error::Error;
pub use family::Family;
pub use load::Loaded;
pub use read::LogMessage;
pub use replay::ReplayFrom;
pub use store::{EventStore, Stored, server_addrs};
pub use stream::{Replicas, StreamName};
pub use subscribe::{HandlerError, Step, Subscription, SubscriptionConfig};
