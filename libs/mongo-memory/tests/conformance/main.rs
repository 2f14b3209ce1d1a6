//! Conformance suite: the official `mongodb` driver against mongo-memory (or a
//! real MongoDB when `PARLOR_TEST_MONGODB_URI` is set). Every assertion holds
//! on real MongoDB too.

mod aggregate;
mod collections;
mod delete_count;
mod errors;
mod find;
mod find_and_modify;
mod handshake;
mod indexes;
mod insert;
mod query;
mod target;
mod update;
