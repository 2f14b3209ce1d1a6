//! `parlor events <aggregate>`: one aggregate's events as JSON lines.

use anyhow::{Context, bail};
use events::{AccountId, ConversationEvent, ConversationId, LedgerEvent};
use eventstore::{EventStore, Family};

pub async fn run(aggregate: &str, nats_url: &str) -> anyhow::Result<()> {
    let store = EventStore::connect(nats_url).await?;
    if let Ok(conversation) = aggregate.parse::<ConversationId>() {
        print_all::<ConversationEvent>(&store, conversation).await
    } else if let Ok(account) = aggregate.parse::<AccountId>() {
        print_all::<LedgerEvent>(&store, account).await
    } else {
        bail!(
            "`{aggregate}` is neither a conversation id (24 hex digits) nor an account id (user-<24 hex>, system-<name>)"
        )
    }
}

#[allow(clippy::print_stdout)]
async fn print_all<E: Family>(store: &EventStore, id: E::Id) -> anyhow::Result<()> {
    let loaded = store
        .load::<E>(id)
        .await
        .with_context(|| format!("loading {id}"))?;
    for stored in &loaded.events {
        let line = serde_json::json!({
            "sequence": stored.sequence,
            "event": stored.envelope.to_raw(),
        });
        println!("{line}");
    }
    Ok(())
}
