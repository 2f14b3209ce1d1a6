//! An in-memory MongoDB server speaking the wire protocol, so code written
//! against the official `mongodb` driver is tested through that driver. It
//! is the default store for tests and for `parlor up` without `MONGODB_URI`.
//!
//! It serves one standalone node: no replication, transactions, auth, TLS or
//! persistence. Every command, operator or option it does not implement is
//! refused with MongoDB's own error naming it, never silently ignored.
//!
//! Refused today: transactions (`txnNumber`), `collation`, `let`,
//! `arrayFilters`, pipeline-style updates, `$out`/`$merge`/`$lookup`/
//! `$unionWith`/`$graphLookup`, `explain`, text/geo/hashed indexes, TTL and
//! partial indexes, capped collections, validators and views.
//!
//! # Layout
//! * [`server`] — [`MongoMemory`]: binding, accepting, one task per connection.
//! * [`wire`] — framing, `OP_MSG`, legacy `OP_QUERY`/`OP_REPLY`, size limits.
//! * `commands` — one module per command (or small group) and the dispatch.
//! * `store` — databases → collections → documents, unique indexes.
//! * `cursors` — open cursors served by `getMore`.
//! * `state` — the locks every connection shares.
//! * `error` — [`CommandError`], MongoDB's error codes.
//! * [`engine`] — pure query logic: filters, updates, projections, sorts, aggregation.

mod commands;
mod cursors;
pub mod engine;
mod error;
pub mod server;
mod state;
mod store;
pub mod wire;

pub use error::CommandError;
pub use server::{MongoMemory, StartError};
