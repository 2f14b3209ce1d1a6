//! One batch of log messages → the documents they change, in a fixed
//! number of round trips whatever the batch holds: one read of every
//! document it touches, one write of the overflow messages, one insert and
//! one update command. Events are grouped by conversation and applied in
//! stream order within each; conversations never wait on one another.
//! An event that cannot be applied is parked, and the rest go on. The
//! rollups of what the batch touched are refreshed after its documents,
//! and its ledger postings booked.

use std::collections::HashMap;

use eventstore::{LogMessage, StreamName};
use mongodb::bson::Document;
use mongodb::bson::oid::ObjectId;

use crate::config::Tuning;
use crate::diff;
use crate::document::ConversationDoc;
use crate::error::Error;
use crate::ledger_book::{LedgerBook, Posted};
use crate::overflow;
use crate::parked::{Parked, ParkedEvent};
use crate::rollup::{Rollups, Touched};
use crate::route::Routed;
use crate::store::{Applied as Seqs, Conversations, DocWrite, oid};

/// Read-apply-write rounds for documents other writers keep changing.
pub const MAX_ATTEMPTS: usize = 16;

/// What one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Messages in the batch.
    pub events: u64,
    /// Documents written.
    pub documents: u64,
    /// Events parked.
    pub parked: u64,
}

/// Where batches are written, and how.
#[derive(Clone, Debug)]
pub struct Batcher {
    target: Conversations,
    rollups: Rollups,
    /// When set, rollup keys gather here until [`Batcher::flush_rollups`]
    /// (a rebuild's private collections: refreshing once at the end reads
    /// each key's conversations once instead of once per batch).
    deferred: Option<std::sync::Arc<std::sync::Mutex<Touched>>>,
    ledger: LedgerBook,
    parked: Parked,
    embedded_messages: usize,
}

impl Batcher {
    pub fn new(target: Conversations, tuning: &Tuning) -> Self {
        let parked = Parked::new(target.database());
        let rollups = Rollups::new(
            target.database(),
            target.names(),
            tuning.usd_per_million_credits,
        );
        let ledger = LedgerBook::new(target.database(), target.names());
        Self {
            target,
            rollups,
            deferred: None,
            ledger,
            parked,
            embedded_messages: tuning.embedded_messages.max(1),
        }
    }

    /// Gathers rollup keys instead of refreshing them per batch.
    pub fn defer_rollups(&mut self) {
        self.deferred = Some(std::sync::Arc::default());
    }

    /// Refreshes the rollup keys gathered since the last flush.
    pub async fn flush_rollups(&self) -> Result<(), Error> {
        let Some(gathered) = &self.deferred else {
            return Ok(());
        };
        let touched = std::mem::take(
            &mut *gathered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        self.rollups.refresh(&touched).await
    }

    /// Creates the indexes of every collection the batches write.
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        self.target.ensure_indexes().await?;
        self.rollups.ensure_indexes().await?;
        self.ledger.ensure_indexes().await
    }

    /// Projects `messages` (each with its stream, each stream in order).
    /// An error leaves nothing half-applied that a retry of the same batch
    /// would not complete.
    pub async fn apply(&self, messages: &[(StreamName, LogMessage)]) -> Result<Applied, Error> {
        let mut applied = Applied {
            events: u64::try_from(messages.len()).unwrap_or(u64::MAX),
            ..Applied::default()
        };
        let mut parked = Vec::new();
        let mut groups: HashMap<ObjectId, Vec<(StreamName, &LogMessage, Routed)>> = HashMap::new();
        let mut order = Vec::new();
        let mut posted = Vec::new();
        for (stream, message) in messages {
            if *stream == StreamName::Ledger {
                match Posted::of(message) {
                    Ok(event) => posted.push(event),
                    Err(error) => parked.push(ParkedEvent::new(*stream, message, &error)),
                }
            }
            match Routed::decode(*stream, message) {
                Ok(Some(routed)) => {
                    let id = oid(routed.id());
                    let group = groups.entry(id).or_default();
                    if group.is_empty() {
                        order.push(routed.id());
                    }
                    group.push((*stream, message, routed));
                }
                Ok(None) => {}
                Err(error) => parked.push(ParkedEvent::new(*stream, message, &error)),
            }
        }
        let mut pending = order;
        let mut touched = Touched::default();
        for _ in 0..MAX_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let stored = self.target.load_many(&pending).await?;
            let mut overflow_writes = Vec::new();
            let mut doc_writes = Vec::new();
            for id in &pending {
                let key = oid(*id);
                let Some(events) = groups.get(&key) else {
                    continue;
                };
                match self.change(stored.get(&key), events, &mut touched) {
                    Ok(Some((overflow, write))) => {
                        overflow_writes.extend(overflow);
                        doc_writes.push(write);
                    }
                    Ok(None) => {}
                    Err(error) => {
                        parked.extend(events.iter().map(|(stream, message, _)| {
                            ParkedEvent::new(*stream, message, &error)
                        }));
                    }
                }
            }
            let written = u64::try_from(doc_writes.len()).unwrap_or(u64::MAX);
            let conflicted = self.target.write(overflow_writes, doc_writes).await?;
            applied.documents +=
                written - u64::try_from(conflicted.len()).unwrap_or(0).min(written);
            pending.retain(|id| conflicted.contains(&oid(*id)));
        }
        if let Some(id) = pending.first() {
            return Err(Error::Contended {
                id: *id,
                attempts: MAX_ATTEMPTS,
            });
        }
        match &self.deferred {
            Some(gathered) => gathered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(touched),
            None => self.rollups.refresh(&touched).await?,
        }
        self.ledger.book(&posted).await?;
        // An event both projections refused is parked once.
        parked.sort_by_key(|p| (p.stream.as_str(), p.sequence));
        parked.dedup_by_key(|p| (p.stream.as_str(), p.sequence));
        applied.parked = u64::try_from(parked.len()).unwrap_or(u64::MAX);
        self.parked.park(&parked).await?;
        Ok(applied)
    }

    /// The writes that apply `events` to the stored document (or a new
    /// one); `None` when they change nothing (all applied before). The
    /// rollup keys of the document before and after go to `touched`, even
    /// when nothing changes, so a batch replayed after a crash between the
    /// document and its rollups still refreshes them.
    fn change(
        &self,
        stored: Option<&Document>,
        events: &[(StreamName, &LogMessage, Routed)],
        touched: &mut Touched,
    ) -> Result<Option<(Vec<overflow::Write>, DocWrite)>, Error> {
        if let Some(stored) = stored {
            touched.note(stored);
        }
        let Some((_, _, first)) = events.first() else {
            return Ok(None);
        };
        let mut doc = match stored {
            Some(stored) => {
                ConversationDoc::from_bson(stored.clone()).map_err(|source| Error::Unreadable {
                    id: first.id(),
                    source,
                })?
            }
            None => first.new_document(),
        };
        doc.pending.embedded_messages = self.embedded_messages;
        let read = Seqs::of(&doc);
        let mut changed = false;
        for (_, _, routed) in events {
            changed |= routed.apply(&mut doc);
        }
        if !changed {
            return Ok(None);
        }
        doc.derive();
        doc.projection.version = doc.projection.applied_version();
        let overflow = doc
            .pending
            .overflow
            .iter()
            .map(|op| overflow::write_of(doc.id, op))
            .collect::<Result<Vec<_>, _>>()?;
        let after = doc.to_bson()?;
        touched.note(&after);
        let write = match stored {
            None => DocWrite::Insert(after),
            Some(before) => DocWrite::Update {
                id: doc.id,
                read,
                applied: Seqs::of(&doc),
                update: diff::update_of(before, &after),
            },
        };
        Ok(Some((overflow, write)))
    }
}
