//! `parlor rebuild`: the read models rebuilt from the event log.

use anyhow::Context;
use eventstore::EventStore;

#[allow(clippy::print_stdout)]
pub async fn run() -> anyhow::Result<()> {
    let config = projector::Config::from_env();
    let store = EventStore::connect(&config.nats_url).await?;
    let db = projector::connect_database(&config)
        .await
        .with_context(|| format!("connecting to MongoDB at {}", config.mongodb_uri))?;
    let rebuilt = projector::rebuild(&store, &db).await?;
    println!("rebuilt conversations from {} events", rebuilt.events);
    Ok(())
}
