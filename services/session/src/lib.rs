//! The session service owns one live ElevenLabs conversation per session task: it answers `cmd.session.start`, relays the conversation's live frames, and turns what happens on the wire into conversation events. It holds the ElevenLabs API key.
//!
//! It never decides money (the ledger does) and never writes read models (the projector does).
//!
//! # Layout
//!
//! * [`config`] — `Config` from the environment.
//! * [`run`] — connects to the event log and serves until `shutdown`.

pub mod config;

use std::future::Future;

pub use config::Config;
use eventstore::EventStore;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    EventLog(#[from] eventstore::Error),
}

/// Runs the session service until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let store = EventStore::connect(&config.nats_url).await?;
    store.ensure_streams().await?;
    tracing::info!(nats = %config.nats_url, "session ready");
    shutdown.await;
    tracing::info!("session stopped");
    Ok(())
}
