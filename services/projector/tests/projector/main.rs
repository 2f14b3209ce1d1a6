//! The projector against a real nats-server and a MongoDB through the real
//! driver: events appended to the log, the projector drained step by step,
//! the `conversations` documents read back raw and checked type by type.

mod concurrency;
mod copies;
mod kill;
mod ledger;
mod lifecycle;
mod long_call;
mod rebuild;
mod rollups;
mod support;
