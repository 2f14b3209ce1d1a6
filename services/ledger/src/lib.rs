//! The ledger service owns the double-entry credit accounts of DESIGN §4: holds, charges, cost per minute, adjustments to ElevenLabs' reported cost, reconciliation. It answers `cmd.ledger.*` and appends ledger events.
//!
//! It never talks to users or to ElevenLabs, and never writes read models.
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

/// Runs the ledger service until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let store = EventStore::connect(&config.nats_url).await?;
    store.ensure_streams().await?;
    tracing::info!(nats = %config.nats_url, "ledger ready");
    shutdown.await;
    tracing::info!("ledger stopped");
    Ok(())
}
