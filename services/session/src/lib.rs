//! The session service owns live ElevenLabs conversations: one task per
//! call answers `cmd.session.start`, opens the upstream WebSocket with the
//! API key only this service holds, relays frames between the gateway's
//! live subjects and ElevenLabs, and turns what happens on the wire into
//! conversation events; after the call it reads ElevenLabs' cost and
//! analysis into the log, and records what arrives from outside a live
//! call (`cmd.session.record`: client-side transcripts, webhooks). Copies
//! watch each other's heartbeats, and a survivor closes the calls of a
//! copy that stopped.
//!
//! It never decides money (it asks the ledger for a hold and for its
//! extensions, and ends a call the ledger will not extend) and never writes
//! read models.
//!
//! # Layout
//!
//! * [`config`] — `Config` from the environment.
//! * `service` — `run`: the start command, call tasks, shutdown.
//! * `core` — the rules of a live call, pure: state + input → frames,
//!   events, effects (bounds, heartbeats, hold extensions, how it ends).
//! * `relay` — the I/O shell that feeds `core` and carries out its output.
//! * `turns` — server events → domain events, with turn latency.
//! * `ending` — how a call ended → `ended`/`failed` and the client's close.
//! * `fold` — `Facts`: a conversation's events folded, shared by the live
//!   call and recovery.
//! * `log` — the conversation's single writer (version in memory), one
//!   event at a time before and after the live part.
//! * `writer` — the live part's ordered, pipelined writer task.
//! * `postcall` — ElevenLabs' record → `cost_reported`, `analysis_reported`
//!   (one mapping for the session's own fetch and the webhook).
//! * `record` — `cmd.session.record`: client-side transcripts, ElevenLabs'
//!   records and failed initiations, appended only where the log lacks
//!   them (fold, append with expected version, re-check on conflict).
//! * `recovery` — the calls a stopped copy left: close them as lost, fetch
//!   their cost.
//! * `sweep` — copies say they are alive; a survivor finishes what a
//!   silent copy left (and a copy what it left itself, at start).

pub mod config;
mod core;
mod ending;
mod fold;
mod log;
mod postcall;
mod record;
mod recovery;
mod relay;
mod service;
mod sweep;
mod turns;
mod writer;

pub use config::{Config, ConfigError};
pub use service::run;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    EventLog(#[from] eventstore::Error),
    #[error("subscribing to the session's commands: {0}")]
    Subscribe(#[source] async_nats::SubscribeError),
    #[error("building the ElevenLabs client: {0}")]
    ElevenLabs(#[source] elevenlabs::RestError),
}
