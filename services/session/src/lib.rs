//! The session service owns live ElevenLabs conversations: one task per
//! call answers `cmd.session.start`, opens the upstream WebSocket with the
//! API key only this service holds, relays frames between the gateway's
//! live subjects and ElevenLabs, and turns what happens on the wire into
//! conversation events; after the call it reads ElevenLabs' cost and
//! analysis into the log.
//!
//! It never decides money (it asks the ledger for a hold and reports
//! facts) and never writes read models.
//!
//! # Layout
//!
//! * [`config`] — `Config` from the environment.
//! * `service` — `run`: the start command, call tasks, shutdown.
//! * `call` — one conversation's relay loop.
//! * `turns` — server events → domain events, with turn latency.
//! * `ending` — how a call ended → `ended`/`failed` and the client's close.
//! * `live` — frames and closes on the live subjects.
//! * `log` — the conversation's single writer (version in memory).
//! * `postcall` — ElevenLabs' record → `cost_reported`, `analysis_reported`.
//! * `recovery` — at start, close what a previous run lost.

mod call;
pub mod config;
mod ending;
mod live;
mod log;
mod postcall;
mod recovery;
mod service;
mod turns;

pub use config::{Config, ConfigError};
pub use service::run;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    EventLog(#[from] eventstore::Error),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("ElevenLabs client: {0}")]
    ElevenLabs(String),
}
