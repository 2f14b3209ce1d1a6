//! Blue/green rebuild: project the whole log into fresh collections with
//! the same batches as the live projection, swap them in with
//! `renameCollection … dropTarget`, then hand the rebuild's checkpoints to
//! the live target and catch up what arrived meanwhile (idempotent, so
//! overlap is harmless).
//!
//! While a projector runs, an event it applies to the new collection in the
//! instant between the swap and the catch-up can make the catch-up skip
//! earlier events of the same conversation (each document keeps only the
//! last sequence per stream). For an exact result, rebuild with the
//! projector stopped.

use eventstore::{EventStore, StreamName};
use mongodb::Database;
use mongodb::bson::doc;

use crate::checkpoint::Checkpoints;
use crate::config::Tuning;
use crate::consumer::Projector;
use crate::error::Error;
use crate::names::{self, Names};
use crate::store::Conversations;

/// The suffix of the collections a rebuild projects into before the swap;
/// dropped first if a previous rebuild left them behind.
pub const REBUILD_SUFFIX: &str = "_rebuild";

/// What a rebuild did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events read from both streams, before and after the swap.
    pub events: u64,
}

/// Rebuilds `conversations` in `db` from the event log.
pub async fn rebuild(store: &EventStore, db: &Database) -> Result<Rebuilt, Error> {
    rebuild_with(store, db, Tuning::default()).await
}

/// [`rebuild`] with batches and documents bounded by `tuning`.
pub async fn rebuild_with(
    store: &EventStore,
    db: &Database,
    tuning: Tuning,
) -> Result<Rebuilt, Error> {
    let fresh_names = Names::suffixed(REBUILD_SUFFIX);
    for base in names::ALL {
        db.collection::<mongodb::bson::Document>(&fresh_names.of(base))
            .drop()
            .await?;
    }
    let fresh = Conversations::new(db, &fresh_names);
    let fresh_checkpoints = Checkpoints::new(db, &fresh_names.of(names::CONVERSATIONS));
    fresh_checkpoints.reset().await?;
    let builder = Projector::start_with(store, fresh, tuning.clone()).await?;
    let mut rebuilt = Rebuilt {
        events: count(builder.drain().await?),
    };
    let existing = db.list_collection_names().await?;
    for base in names::ALL {
        let from = fresh_names.of(base);
        // A model no event fed has no collection to swap in; the live one goes.
        if !existing.contains(&from) {
            db.collection::<mongodb::bson::Document>(base)
                .drop()
                .await?;
            continue;
        }
        db.client()
            .database("admin")
            .run_command(doc! {
                "renameCollection": format!("{}.{from}", db.name()),
                "to": format!("{}.{base}", db.name()),
                "dropTarget": true,
            })
            .await?;
    }
    let live_checkpoints = Checkpoints::new(db, names::CONVERSATIONS);
    live_checkpoints.reset().await?;
    for stream in StreamName::ALL {
        let sequence = fresh_checkpoints.load(stream).await?;
        live_checkpoints.advance(stream, sequence).await?;
    }
    fresh_checkpoints.reset().await?;
    let live = Projector::start_with(store, Conversations::live(db), tuning).await?;
    rebuilt.events += count(live.drain().await?);
    tracing::info!(events = rebuilt.events, "conversations rebuilt");
    Ok(rebuilt)
}

fn count(events: usize) -> u64 {
    u64::try_from(events).unwrap_or(u64::MAX)
}
