//! The projector service owns the MongoDB read models of DESIGN §3, above all `conversations` in the shape of the Prisma `Conversation` model, built only from the event log, and their rebuild by replay.
//!
//! It never emits events and never answers users.
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

/// Runs the projector service until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let store = EventStore::connect(&config.nats_url).await?;
    store.ensure_streams().await?;
    tracing::info!(nats = %config.nats_url, "projector ready");
    shutdown.await;
    tracing::info!("projector stopped");
    Ok(())
}
