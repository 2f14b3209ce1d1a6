//! Blue/green rebuild: project the whole log into a fresh collection, swap
//! it in with `renameCollection … dropTarget`, then replay what arrived
//! meanwhile into the live collection (idempotent, so overlap is harmless).
//!
//! Before the swap only the rebuild writes the fresh collection, so it
//! holds documents in memory (up to [`MAX_HELD_DOCUMENTS`]) and writes each
//! once per batch instead of twice per event.
//!
//! While a projector runs, an event it applies to the new collection in the
//! instant between the swap and the catch-up can make the catch-up skip
//! earlier events of the same conversation (each document keeps only the
//! last sequence per stream). For an exact result, rebuild with the
//! projector stopped.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use events::ConversationId;
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::doc;

use eventstore::{EventStore, ReplayFrom, StreamName};

use crate::consumer::project;
use crate::document::ConversationDoc;
use crate::error::Error;
use crate::route::Routed;
use crate::store::{COLLECTION, Conversations};

/// Where a rebuild projects before the swap; dropped first if a previous
/// rebuild left it behind.
pub const REBUILD_COLLECTION: &str = "conversations_rebuild";
/// Documents a rebuild holds in memory before writing them out.
pub const MAX_HELD_DOCUMENTS: usize = 5_000;

/// What a rebuild did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events read from both streams, before and after the swap.
    pub events: u64,
    /// Events that changed a document.
    pub changes: u64,
}

/// Rebuilds `conversations` in `db` from the event log.
pub async fn rebuild(store: &EventStore, db: &Database) -> Result<Rebuilt, Error> {
    rebuild_holding(store, db, MAX_HELD_DOCUMENTS).await
}

/// [`rebuild`], holding at most `max_held` documents in memory at once.
pub async fn rebuild_holding(
    store: &EventStore,
    db: &Database,
    max_held: usize,
) -> Result<Rebuilt, Error> {
    let fresh = Conversations::new(db, REBUILD_COLLECTION);
    fresh.collection().drop().await?;
    fresh.ensure_indexes().await?;
    let mut rebuilt = Rebuilt::default();
    let mut held = Held::new(&fresh, max_held.max(1));
    let mut next = [ReplayFrom::Beginning; 2];
    for (stream, from) in StreamName::ALL.into_iter().zip(&mut next) {
        let mut messages = std::pin::pin!(store.replay(stream, *from).await?);
        while let Some(message) = messages.try_next().await? {
            rebuilt.events += 1;
            *from = ReplayFrom::Sequence(message.sequence.saturating_add(1));
            if let Some(routed) = Routed::decode(stream, &message)
                && held.apply(&routed).await?
            {
                rebuilt.changes += 1;
            }
        }
    }
    held.flush().await?;
    db.client()
        .database("admin")
        .run_command(doc! {
            "renameCollection": format!("{}.{REBUILD_COLLECTION}", db.name()),
            "to": format!("{}.{COLLECTION}", db.name()),
            "dropTarget": true,
        })
        .await?;
    let live = Conversations::live(db);
    for (stream, from) in StreamName::ALL.into_iter().zip(next) {
        let mut messages = std::pin::pin!(store.replay(stream, from).await?);
        while let Some(message) = messages.try_next().await? {
            rebuilt.events += 1;
            if project(&live, stream, &message).await? {
                rebuilt.changes += 1;
            }
        }
    }
    tracing::info!(
        events = rebuilt.events,
        changes = rebuilt.changes,
        "conversations rebuilt"
    );
    Ok(rebuilt)
}

/// Documents of a rebuild held in memory between writes.
struct Held<'a> {
    target: &'a Conversations,
    docs: HashMap<ConversationId, HeldDoc>,
    max_held: usize,
    /// Whether anything was written yet: until then the fresh collection is
    /// empty and there is nothing to read back.
    flushed: bool,
}

struct HeldDoc {
    doc: ConversationDoc,
    /// The version stored in the collection; `None`: not stored yet.
    stored_version: Option<i64>,
}

impl<'a> Held<'a> {
    fn new(target: &'a Conversations, max_held: usize) -> Self {
        Self {
            target,
            docs: HashMap::new(),
            max_held,
            flushed: false,
        }
    }

    /// Applies `routed` to its document, loading or creating it first.
    async fn apply(&mut self, routed: &Routed) -> Result<bool, Error> {
        let id = routed.id();
        if !self.docs.contains_key(&id) && self.docs.len() >= self.max_held {
            self.flush().await?;
        }
        let stored = match (self.docs.contains_key(&id), self.flushed) {
            (false, true) => self.target.get(id).await?,
            _ => None,
        };
        let held = match self.docs.entry(id) {
            Entry::Occupied(held) => held.into_mut(),
            Entry::Vacant(slot) => slot.insert(HeldDoc {
                stored_version: stored.as_ref().map(|d| d.projection.version),
                doc: stored.unwrap_or_else(|| routed.new_document()),
            }),
        };
        let changed = routed.apply(&mut held.doc);
        if changed {
            // One version per change, as the live path counts them.
            held.doc.projection.version = held.doc.projection.version.saturating_add(1);
        }
        Ok(changed)
    }

    /// Writes every held document and forgets them.
    async fn flush(&mut self) -> Result<(), Error> {
        let mut new = Vec::new();
        for (id, held) in self.docs.drain() {
            match held.stored_version {
                None => new.push(held.doc),
                Some(version) => {
                    if !self.target.write(id, Some(version), &held.doc).await? {
                        return Err(Error::Contended { id, attempts: 1 });
                    }
                }
            }
        }
        self.target.insert_new(&new).await?;
        self.flushed = true;
        Ok(())
    }
}
