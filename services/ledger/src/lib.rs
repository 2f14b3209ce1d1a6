//! The ledger service owns the double-entry credit accounts of DESIGN §4:
//! holds and their extensions, charges, adjustments to ElevenLabs' reported
//! cost, grants and corrections, and the reports finance reads
//! (reconciliation, audit trail, re-pricing). It answers `cmd.ledger.hold`,
//! `extend`, `grant`, `grant_expiring`, `correct`, `balance` and
//! `reconcile`, follows conversation events to charge calls, and appends
//! ledger events to `ledger.<account>`.
//!
//! It never talks to users or to ElevenLabs, and never writes read models.
//!
//! Spend control: a call's hold covers one period at its rate and is
//! extended period by period while it runs (`cmd.ledger.extend`); a hold
//! neither extended nor ended within its TTL is released as expired. Our
//! own estimate never takes a user below zero; ElevenLabs' report may, and
//! is then flagged.
//!
//! Money rules: integer credits; every event a balanced set of postings
//! between a user account and the system accounts (grants, holds, usage,
//! adjustments), so the sum of all balances is always zero. A call is
//! charged exactly once and adjusted at most once, however often its events
//! are redelivered or replayed and however many ledger copies run: each
//! append expects the user account's version the decision was made on, and
//! a conflict reloads that account and decides again.
//!
//! Concurrency: requests and conversation events are handled concurrently;
//! commands for one account take turns inside a copy, commands for
//! different accounts never wait on each other, and no lock is held
//! across an append.
//!
//! # Configuration (environment)
//!
//! * `NATS_URL` — default `nats://127.0.0.1:4222`.
//! * `PARLOR_CREDITS_PER_MINUTE` — the rate of the duration estimate,
//!   default 400 (ElevenLabs Creator tier, protocol doc §4.2).
//! * `PARLOR_MIN_START_SECS` — a user must cover this much call to start one,
//!   default 60.
//! * `PARLOR_HOLD_PERIOD_SECS` — a hold covers this much call (capped at
//!   what the user has) and each extension adds as much, default 60.
//! * `PARLOR_HOLD_TTL_SECS` — a hold neither extended nor ended for this
//!   long is released as expired, default 300; must exceed the period.
//! * `PARLOR_CREDITS_PER_MESSAGE` — a message of a text-only call, where
//!   the rate card names none, default 14.
//! * `PARLOR_FLAG_RATE_FACTOR` — a cost report above this many times the
//!   call's rate per minute is flagged, default 3.
//! * `PARLOR_LEDGER_ACK_WAIT_SECS` — how long a conversation event may stay
//!   unacknowledged before another copy gets it, default 30.
//! * `PARLOR_RATE_CARD` — a JSON rate card (see [`rates`]); without one
//!   every call is priced at `PARLOR_CREDITS_PER_MINUTE`.
//!
//! # Layout
//!
//! * [`config`] — `Config` from the environment.
//! * [`pricing`] — `Pricing`: the estimate, the minimum, the period, the TTL.
//! * [`rates`] — `RateCard`: rates per agent and tier from their effective
//!   times; the price of a credit.
//! * [`account`] — `State`, `Account`, `ConversationMoney`; `State::apply`.
//! * [`decide`] — `Command` and `decide(&State, &Pricing, &Command)`, pure.
//! * [`hold`], [`extend`], [`expiry`], [`grant`], [`correct`], [`charge`],
//!   [`adjust`], [`text_only`] — each command's rules.
//! * [`book`] — `Book`: per-account turns; decide → append with expected version → apply.
//! * [`commands`] — `cmd.ledger.*` request/reply handlers.
//! * [`consumer`] — the durable `ledger` consumer on CONVERSATIONS, handled concurrently.
//! * [`tail`] — follows LEDGER so other copies' appends show here.
//! * [`sweep`] — the timer that expires holds past their TTL and grants
//!   past their expiry.
//! * [`service`] — `Ledger`: start, `run`, `step` (for tests).
//! * [`history`] — both streams read whole, with sequences, for the reports.
//! * [`reconcile`] — the reconciliation report, pure over a `History`.
//! * [`trail`] — one conversation's audit trail, with sequences and causes.
//! * [`reprice`] — shadow re-pricing against another rate card; posts nothing.
//! * `properties` (tests) — proptest over the pure core: the money rules
//!   after every step of random interleavings.

pub mod account;
pub mod adjust;
pub mod book;
pub mod charge;
pub mod commands;
pub mod config;
pub mod consumer;
pub mod correct;
pub mod decide;
pub mod expiry;
pub mod extend;
pub mod grant;
pub mod history;
pub mod hold;
pub mod pricing;
pub mod rates;
pub mod reconcile;
pub mod reprice;
pub mod service;
pub mod sweep;
pub mod tail;
pub mod text_only;
pub mod trail;

#[cfg(test)]
mod given;
#[cfg(test)]
mod properties;

use std::future::Future;

pub use config::{Config, ConfigError};
pub use pricing::Pricing;
pub use service::Ledger;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    EventLog(#[from] eventstore::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("nats: {0}")]
    Nats(String),
}

/// Runs the ledger service until `shutdown` completes, with pricing from
/// the environment.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    Ledger::start(&config, Pricing::from_env()?)
        .await?
        .run(shutdown)
        .await
}
