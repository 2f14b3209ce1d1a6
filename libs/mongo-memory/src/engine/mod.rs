//! The query engine: pure functions over `bson` values that decide what
//! MongoDB would decide — which documents a filter matches, what an update
//! does to a document, how projections, sorts and aggregation pipelines shape
//! results. It never does I/O, never locks, never knows about collections.
//!
//! Every entry point parses first (all validation errors before anything is
//! touched) and applies second; anything it does not implement is refused
//! with MongoDB's own error code naming the unsupported piece.
//!
//! # Layout
//! * [`error`] — [`EngineError`], MongoDB codes and code names.
//! * [`order`] — canonical BSON type order and value comparison.
//! * [`arith`] — arithmetic that keeps MongoDB's number types.
//! * [`path`] — dotted paths through documents and arrays.
//! * [`filter`] — query filters (`find`, `update`, `delete`, `$match`).
//! * [`update`] — update operators and replacement documents.
//! * [`projection`] — find and `$project` projections.
//! * [`sort`] — sort specifications.
//! * [`expression`] — aggregation expressions (`$add`, `"$a.b"`, …).
//! * [`aggregate`] — aggregation pipelines over a set of documents.

pub mod aggregate;
pub mod arith;
pub mod error;
pub mod expression;
pub mod filter;
pub mod order;
pub mod path;
pub mod projection;
pub mod sort;
pub mod update;

pub use error::EngineError;
