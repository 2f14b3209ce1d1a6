//! A replay folded in memory: the rebuild's fast path into fresh
//! collections. Each conversation's events are applied to its document in
//! memory (the same [`Routed`] decoding, [`apply`](crate::apply) and
//! [`ConversationDoc::derive`] as the live projection), and each finished
//! document is written once, encoded straight to BSON bytes, with large
//! unordered inserts sent several at once; ledger
//! accounts and entries, and the rollups, are computed from what was folded
//! (the same rules as [`LedgerBook`](crate::ledger_book::LedgerBook) and
//! [`Rollups`]) and written whole. Messages are read and decoded on other
//! threads while earlier ones are applied.
//!
//! Memory stays bounded: once [`Tuning::rebuild_held_events`] events are held, everything
//! held is written out, and a later event of a written document reads it
//! back and updates what changed, as a live batch does.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use events::{ConversationId, UserId};
use eventstore::{EventStore, LogMessage, ReplayFrom, StreamName};
use futures::{StreamExt, TryStreamExt};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, RawDocumentBuf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::checkpoint::Checkpoints;
use crate::config::Tuning;
use crate::consumer::Bounds;
use crate::diff;
use crate::document::ConversationDoc;
use crate::error::Error;
use crate::ledger_book::{FreshAccounts, Posted};
use crate::names;
use crate::overflow;
use crate::parked::{Parked, ParkedEvent};
use crate::rollup::{self, Rollups, Touched};
use crate::route::Routed;
use crate::store::{Applied as Seqs, Conversations, DocWrite, oid};

/// Messages decoded together on a blocking thread.
const CHUNK: usize = 2_000;
/// Chunks read ahead (being decoded, or decoded) while one is applied.
const AHEAD: usize = 4;
/// Events held in memory before everything held is written out, by
/// default ([`Tuning::rebuild_held_events`]).
pub const HELD_EVENTS: usize = 1_000_000;
/// Insert commands a write-out sends at once.
const CONCURRENT_INSERTS: usize = 4;
/// Overflow writes and document updates per command.
const WRITES_PER_COMMAND: usize = 500;

/// The rollup fields of documents written, with their ids.
type RollupFields = Vec<(ObjectId, Document)>;

/// One log message, decoded for every projection.
pub struct Decoded {
    stream: StreamName,
    sequence: u64,
    routed: Option<Routed>,
    posted: Option<Posted>,
    parked: Option<ParkedEvent>,
}

impl Decoded {
    /// `message` of `stream`; an event both projections refuse is parked
    /// once, with the ledger's reason (as a live batch parks it).
    pub fn of(stream: StreamName, message: &LogMessage) -> Self {
        let mut parked = None;
        let posted = match stream {
            StreamName::Ledger => match Posted::of(message) {
                Ok(posted) => Some(posted),
                Err(error) => {
                    parked = Some(ParkedEvent::new(stream, message, &error));
                    None
                }
            },
            StreamName::Conversations => None,
        };
        let routed = match Routed::decode(stream, message) {
            Ok(routed) => routed,
            Err(error) => {
                parked.get_or_insert_with(|| ParkedEvent::new(stream, message, &error));
                None
            }
        };
        Self {
            stream,
            sequence: message.sequence,
            routed,
            posted,
            parked,
        }
    }
}

impl Decoded {
    /// True when the event bears on conversation `id`'s document.
    pub fn concerns(&self, id: ConversationId) -> bool {
        self.routed.as_ref().is_some_and(|r| r.id() == id)
    }
}

/// A document being folded.
struct Held {
    /// As stored, with what it had applied, when it was read back.
    stored: Option<(Document, Seqs)>,
    doc: ConversationDoc,
    changed: bool,
}

/// Everything folded so far, pure: events in, documents out.
pub struct Fold {
    embedded_messages: usize,
    held_limit: usize,
    /// Only this conversation's document (ledger postings are not booked).
    only: Option<ObjectId>,
    held: HashMap<ObjectId, Held>,
    /// Held documents in the order first seen, so writes follow the log.
    order: Vec<ObjectId>,
    written: HashSet<ObjectId>,
    /// The rollup fields of every document written.
    rollup_fields: HashMap<ObjectId, Document>,
    posted: Vec<Posted>,
    accounts: FreshAccounts,
    parked: Vec<ParkedEvent>,
    held_events: usize,
    last: HashMap<StreamName, u64>,
}

/// What one write-out sends, prepared off the async threads.
#[derive(Default)]
pub struct Prepared {
    overflow: Vec<overflow::Write>,
    /// Finished, encoded as they are sent.
    inserts: Vec<ConversationDoc>,
    updates: Vec<DocWrite>,
    entries: Vec<Document>,
    parked: Vec<ParkedEvent>,
}

impl Fold {
    pub fn new(tuning: &Tuning) -> Self {
        Self {
            embedded_messages: tuning.embedded_messages.max(1),
            held_limit: tuning.rebuild_held_events.max(1),
            only: None,
            held: HashMap::new(),
            order: Vec::new(),
            written: HashSet::new(),
            rollup_fields: HashMap::new(),
            posted: Vec::new(),
            accounts: FreshAccounts::default(),
            parked: Vec::new(),
            held_events: 0,
            last: HashMap::new(),
        }
    }

    /// A fold of conversation `id`'s document alone.
    pub fn of_one(tuning: &Tuning, id: ConversationId) -> Self {
        Self {
            only: Some(oid(id)),
            ..Self::new(tuning)
        }
    }

    /// Written documents that `decoded` changes and that are not held.
    fn missing(&self, decoded: &[Decoded]) -> Vec<ConversationId> {
        let mut missing: Vec<ConversationId> = decoded
            .iter()
            .filter_map(|d| d.routed.as_ref().map(Routed::id))
            .filter(|id| {
                let key = oid(*id);
                self.written.contains(&key) && !self.held.contains_key(&key)
            })
            .collect();
        missing.sort_by_key(|id| id.bytes());
        missing.dedup();
        missing
    }

    /// Holds again the written documents `stored` of `ids`.
    fn reload(
        &mut self,
        ids: &[ConversationId],
        mut stored: HashMap<ObjectId, Document>,
    ) -> Result<(), Error> {
        for id in ids {
            let key = oid(*id);
            let Some(document) = stored.remove(&key) else {
                continue;
            };
            let mut doc = ConversationDoc::from_bson(document.clone())
                .map_err(|source| Error::Unreadable { id: *id, source })?;
            doc.pending.embedded_messages = self.embedded_messages;
            let read = Seqs::of(&doc);
            self.order.push(key);
            self.held.insert(
                key,
                Held {
                    stored: Some((document, read)),
                    doc,
                    changed: false,
                },
            );
        }
        Ok(())
    }

    /// Applies `decoded`, in log order.
    pub fn apply(&mut self, decoded: Vec<Decoded>) {
        for message in decoded {
            self.held_events += 1;
            let last = self.last.entry(message.stream).or_default();
            *last = (*last).max(message.sequence);
            if self.only.is_none() {
                self.parked.extend(message.parked);
                self.posted.extend(message.posted);
            }
            let Some(routed) = message.routed else {
                continue;
            };
            let key = oid(routed.id());
            if self.only.is_some_and(|only| only != key) {
                continue;
            }
            let held = match self.held.entry(key) {
                Entry::Occupied(held) => held.into_mut(),
                Entry::Vacant(vacant) => {
                    self.order.push(key);
                    let mut doc = routed.new_document();
                    doc.pending.embedded_messages = self.embedded_messages;
                    vacant.insert(Held {
                        stored: None,
                        doc,
                        changed: false,
                    })
                }
            };
            held.changed |= routed.apply(&mut held.doc);
        }
    }

    /// Finishes every held document (derived fields, version) and takes
    /// what is to be written; nothing stays held.
    pub fn prepare(&mut self) -> Result<Prepared, Error> {
        let mut prepared = Prepared::default();
        for key in std::mem::take(&mut self.order) {
            let Some(Held {
                stored,
                mut doc,
                changed,
            }) = self.held.remove(&key)
            else {
                continue;
            };
            if !changed {
                continue;
            }
            finish(&mut doc);
            for op in std::mem::take(&mut doc.pending.overflow) {
                prepared.overflow.push(overflow::write_of(doc.id, &op)?);
            }
            self.written.insert(key);
            match stored {
                None => prepared.inserts.push(doc),
                Some((before, read)) => {
                    let after = doc.to_bson()?;
                    self.rollup_fields.insert(key, rollup::fields_of(&after));
                    prepared.updates.push(DocWrite::Update {
                        id: doc.id,
                        read,
                        applied: Seqs::of(&doc),
                        update: diff::update_of(&before, &after),
                    });
                }
            }
        }
        let posted = std::mem::take(&mut self.posted);
        prepared.entries = posted.iter().flat_map(Posted::entries).collect();
        self.accounts.add(&posted);
        prepared.parked = std::mem::take(&mut self.parked);
        self.held_events = 0;
        Ok(prepared)
    }

    /// The one document of [`Fold::of_one`], finished, with the changes
    /// to its overflowed messages in order; `None` without events.
    pub fn into_document(mut self) -> Option<ConversationDoc> {
        let key = self.only?;
        let mut held = self.held.remove(&key)?;
        held.changed.then(|| {
            finish(&mut held.doc);
            held.doc
        })
    }

    /// The user of [`Fold::of_one`]'s document, once an event named them.
    pub fn user(&self) -> Option<UserId> {
        let held = self.held.get(&self.only?)?;
        let user = held.doc.user_id.bytes();
        (user != [0; 12]).then(|| UserId::from_bytes(user))
    }
}

/// Derived fields and version, as a live batch leaves them.
fn finish(doc: &mut ConversationDoc) {
    doc.derive();
    doc.projection.version = doc.projection.applied_version();
}

impl Prepared {
    /// Writes overflow messages first, then the documents, the ledger
    /// entries and what was parked; returns the rollup fields of the
    /// documents inserted.
    async fn write(self, target: &Conversations) -> Result<RollupFields, Error> {
        let db = target.database();
        for slice in self.overflow.chunks(WRITES_PER_COMMAND) {
            target.write(slice.to_vec(), Vec::new()).await?;
        }
        let inserted = insert_documents(target, self.inserts).await?;
        for slice in self.updates.chunks(WRITES_PER_COMMAND) {
            let conflicted = target.write(Vec::new(), slice.to_vec()).await?;
            if let Some(id) = conflicted.iter().next() {
                return Err(Error::Contended {
                    id: ConversationId::from_bytes(id.bytes()),
                    attempts: 1,
                });
            }
        }
        let entries = target.names().of(names::LEDGER_ENTRIES);
        insert_all(db, &entries, self.entries).await?;
        Parked::new(db).park(&self.parked).await?;
        Ok(inserted)
    }
}

/// Inserts `documents` into `target`'s empty collection in
/// [`CONCURRENT_INSERTS`] parts at once, each encoded on a blocking thread
/// and sent as soon as it is, so encoding, sending and the server's
/// decoding overlap. Returns each document's rollup fields.
async fn insert_documents(
    target: &Conversations,
    documents: Vec<ConversationDoc>,
) -> Result<RollupFields, Error> {
    let collection = target
        .database()
        .collection::<RawDocumentBuf>(target.name());
    let parts = split(documents, CONCURRENT_INSERTS)
        .into_iter()
        .map(|part| {
            let collection = collection.clone();
            async move {
                let (encoded, fields) =
                    tokio::task::spawn_blocking(move || encode(&part)).await??;
                collection.insert_many(encoded).ordered(false).await?;
                Ok::<_, Error>(fields)
            }
        });
    let fields = futures::future::try_join_all(parts).await?;
    Ok(fields.into_iter().flatten().collect())
}

/// `documents` encoded straight to bytes (the driver sends them as they
/// are), with their rollup fields.
fn encode(documents: &[ConversationDoc]) -> Result<(Vec<RawDocumentBuf>, RollupFields), Error> {
    let mut encoded = Vec::with_capacity(documents.len());
    let mut fields = Vec::with_capacity(documents.len());
    for doc in documents {
        let raw = mongodb::bson::to_raw_document_buf(doc)?;
        fields.push((doc.id, rollup::fields_of_raw(&raw)?));
        encoded.push(raw);
    }
    Ok((encoded, fields))
}

/// `items` in at most `parts` runs of nearly equal length, in order; none
/// when there are no items.
fn split<T>(mut items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let per_part = items.len().div_ceil(parts.max(1)).max(1);
    let mut runs = Vec::new();
    while !items.is_empty() {
        let rest = items.split_off(per_part.min(items.len()));
        runs.push(std::mem::replace(&mut items, rest));
    }
    runs
}

/// Inserts `documents` into the empty collection `name`, unordered, in
/// [`CONCURRENT_INSERTS`] commands sent at once, so the server decodes
/// them on several cores.
async fn insert_all(
    db: &mongodb::Database,
    name: &str,
    documents: Vec<Document>,
) -> Result<(), Error> {
    let collection = db.collection::<Document>(name);
    let commands = split(documents, CONCURRENT_INSERTS)
        .into_iter()
        .map(|part| collection.insert_many(part).ordered(false).into_future());
    futures::future::try_join_all(commands).await?;
    Ok(())
}

/// Folds the log within `bounds` into `target`'s collections, which must
/// be empty, and sets its checkpoints to the last sequences read; telling
/// `progress` the events read so far. Returns the events read.
pub async fn replay(
    store: &EventStore,
    target: &Conversations,
    tuning: &Tuning,
    bounds: Bounds,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, Error> {
    let (ahead, mut decoded) = mpsc::channel(AHEAD);
    let reader = tokio::spawn(read_ahead(store.clone(), bounds, ahead));
    let mut fold = Fold::new(tuning);
    let mut read = 0_u64;
    while let Some(decoding) = decoded.recv().await {
        let chunk = decoding.await?;
        let missing = fold.missing(&chunk);
        if !missing.is_empty() {
            let stored = target.load_many(&missing).await?;
            fold.reload(&missing, stored)?;
        }
        read = read.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        fold = tokio::task::spawn_blocking(move || {
            fold.apply(chunk);
            fold
        })
        .await?;
        progress(read);
        if fold.held_events >= fold.held_limit {
            fold = write_out(fold, target).await?;
        }
    }
    reader.await??;
    let fold = write_out(fold, target).await?;
    let db = target.database();
    insert_all(
        db,
        &target.names().of(names::LEDGER_ACCOUNTS),
        fold.accounts.documents(),
    )
    .await?;
    let rollups = Rollups::new(db, target.names(), tuning.usd_per_million_credits);
    let conversations: Vec<Document> = fold.rollup_fields.into_values().collect();
    let mut touched = Touched::default();
    for conversation in &conversations {
        touched.note(conversation);
    }
    rollups
        .put_all(&rollups.figures(&touched, &conversations, &conversations))
        .await?;
    let checkpoints = Checkpoints::new(db, target.name());
    for stream in StreamName::ALL {
        let last = fold.last.get(&stream).copied().unwrap_or(0);
        if last > 0 {
            checkpoints.advance(stream, last).await?;
        }
    }
    Ok(read)
}

/// Prepares what `fold` holds on a blocking thread, then writes it.
async fn write_out(mut fold: Fold, target: &Conversations) -> Result<Fold, Error> {
    let (fold, prepared) = tokio::task::spawn_blocking(move || {
        let prepared = fold.prepare();
        (fold, prepared)
    })
    .await?;
    let (mut fold, prepared) = (fold, prepared?);
    fold.rollup_fields.extend(prepared.write(target).await?);
    Ok(fold)
}

/// Reads both streams within `bounds` in chunks, each decoded on a
/// blocking thread, handed over in log order; stops early when the fold
/// stops listening.
async fn read_ahead(
    store: EventStore,
    bounds: Bounds,
    ahead: mpsc::Sender<JoinHandle<Vec<Decoded>>>,
) -> Result<(), Error> {
    for stream in StreamName::ALL {
        let from = bounds.from.unwrap_or(ReplayFrom::Beginning);
        read_stream(&store, stream, None, from, bounds, &ahead).await?;
    }
    Ok(())
}

/// One stream (one subject of it, when given) into `ahead`.
pub(crate) async fn read_stream(
    store: &EventStore,
    stream: StreamName,
    subject: Option<&str>,
    from: ReplayFrom,
    bounds: Bounds,
    ahead: &mpsc::Sender<JoinHandle<Vec<Decoded>>>,
) -> Result<(), Error> {
    let messages = match subject {
        Some(subject) => store.replay_subject(stream, subject, from).await?.boxed(),
        None => store.replay(stream, from).await?.boxed(),
    };
    let messages = messages.map_err(Error::from).try_take_while(|message| {
        let admitted = bounds.until.is_none_or(|until| until.admits(message));
        futures::future::ready(Ok(admitted))
    });
    let mut chunks = std::pin::pin!(messages.try_chunks(CHUNK));
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| e.1)?;
        let decoding = tokio::task::spawn_blocking(move || {
            chunk
                .iter()
                .map(|message| Decoded::of(stream, message))
                .collect()
        });
        if ahead.send(decoding).await.is_err() {
            break;
        }
    }
    Ok(())
}
