//! The ledger against a real nats-server: commands over request/reply,
//! charges from conversation events appended to the log, exactly-once
//! under redelivery, restarts and two running copies.

mod support;

mod charging;
mod commands;
mod concurrency;
mod crash;
mod exactly_once;
mod rates;
mod reconcile;
mod spend;
