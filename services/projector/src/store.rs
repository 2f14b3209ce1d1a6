//! The `conversations` collection and its `conversation_messages` overflow:
//! indexes, the batched read of the documents a batch touches, and the
//! batched write of what changed, under optimistic concurrency (a stored
//! document is updated only while it has still applied what was read), so
//! any number of projector copies never overwrite each other.

use std::collections::{HashMap, HashSet};

use events::ConversationId;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};

use crate::document::ConversationDoc;
use crate::error::Error;
use crate::names::{self, Names};
use crate::overflow;

/// MongoDB's duplicate-key error: another copy inserted the document first.
pub(crate) const DUPLICATE_KEY: i32 = 11000;

/// A handle on one conversations collection and its overflow (the live
/// pair or a rebuild's).
#[derive(Clone, Debug)]
pub struct Conversations {
    db: Database,
    names: Names,
    collection: Collection<Document>,
    messages: Collection<Document>,
}

/// One document's change, ready to be written.
#[derive(Clone, Debug)]
pub enum DocWrite {
    /// There was no document: insert this one.
    Insert(Document),
    /// Apply `update` if the stored document has still applied `read`;
    /// afterwards it has applied `applied`.
    Update {
        id: ObjectId,
        read: Applied,
        applied: Applied,
        update: Document,
    },
}

/// The last sequence of each stream a document applied: what it holds,
/// whoever wrote it, and so the optimistic-concurrency token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub conversation_seq: i64,
    pub ledger_seq: i64,
}

impl Applied {
    pub fn of(doc: &ConversationDoc) -> Self {
        Self {
            conversation_seq: doc.projection.conversation_seq,
            ledger_seq: doc.projection.ledger_seq,
        }
    }

    fn of_stored(stored: &Document) -> Option<Self> {
        let projection = stored.get_document("projection").ok()?;
        Some(Self {
            conversation_seq: projection.get_i64("conversationSeq").ok()?,
            ledger_seq: projection.get_i64("ledgerSeq").ok()?,
        })
    }
}

impl Conversations {
    /// The collections of target `names` in `db`.
    pub fn new(db: &Database, names: &Names) -> Self {
        Self {
            db: db.clone(),
            names: names.clone(),
            collection: db.collection(&names.of(names::CONVERSATIONS)),
            messages: db.collection(&names.of(names::CONVERSATION_MESSAGES)),
        }
    }

    /// The live `conversations` and `conversation_messages` of `db`.
    pub fn live(db: &Database) -> Self {
        Self::new(db, &Names::live())
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    pub fn name(&self) -> &str {
        self.collection.name()
    }

    pub fn messages_name(&self) -> &str {
        self.messages.name()
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Creates the indexes of every query the gateway and dashboards make:
    /// `userId` and `agentId` (as the Prisma schema declares), a user's
    /// newest first, `startedAt`, `status`, the ElevenLabs id, the
    /// gateway's page order (start time, then id); and the overflow's
    /// lookups by conversation.
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        let index = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().name(name.to_owned()).build())
                .build()
        };
        self.collection
            .create_indexes([
                index(doc! { "userId": 1 }, "userId_1"),
                index(doc! { "agentId": 1 }, "agentId_1"),
                index(
                    doc! { "userId": 1, "startedAt": -1 },
                    "userId_1_startedAt_-1",
                ),
                index(doc! { "startedAt": -1 }, "startedAt_-1"),
                index(doc! { "status": 1 }, "status_1"),
                // The gateway's pages sort by start time, then id, so that
                // calls starting in the same millisecond still page in order.
                index(
                    doc! { "userId": 1, "startedAt": -1, "_id": -1 },
                    "userId_1_startedAt_-1__id_-1",
                ),
                index(doc! { "startedAt": -1, "_id": -1 }, "startedAt_-1__id_-1"),
                index(
                    doc! { "metadata.elevenlabs_conversation_id": 1 },
                    "metadata.elevenlabs_conversation_id_1",
                ),
            ])
            .await?;
        self.messages
            .create_indexes([
                index(
                    doc! { "conversationId": 1, "index": 1 },
                    "conversationId_1_index_1",
                ),
                index(
                    doc! { "conversationId": 1, "eventId": 1 },
                    "conversationId_1_eventId_1",
                ),
            ])
            .await?;
        Ok(())
    }

    /// The stored document of conversation `id`.
    pub async fn get(&self, id: ConversationId) -> Result<Option<ConversationDoc>, Error> {
        let Some(stored) = self.collection.find_one(doc! { "_id": oid(id) }).await? else {
            return Ok(None);
        };
        ConversationDoc::from_bson(stored)
            .map(Some)
            .map_err(|source| Error::Unreadable { id, source })
    }

    /// The stored documents of `ids`, raw, in one query.
    pub async fn load_many(
        &self,
        ids: &[ConversationId],
    ) -> Result<HashMap<ObjectId, Document>, Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<ObjectId> = ids.iter().copied().map(oid).collect();
        let stored: Vec<Document> = self
            .collection
            .find(doc! { "_id": { "$in": ids } })
            .await?
            .try_collect()
            .await?;
        Ok(stored
            .into_iter()
            .filter_map(|d| d.get_object_id("_id").ok().map(|id| (id, d)))
            .collect())
    }

    /// Writes the overflow messages first (so a document never claims
    /// messages that are not stored), then the documents: one `insert` and
    /// one `update` command for the whole batch. Returns the documents
    /// another writer changed first; their events must be applied again.
    pub async fn write(
        &self,
        overflow: Vec<overflow::Write>,
        docs: Vec<DocWrite>,
    ) -> Result<HashSet<ObjectId>, Error> {
        self.write_overflow(overflow).await?;
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        let mut expected = Vec::new();
        for write in docs {
            match write {
                DocWrite::Insert(document) => inserts.push(document),
                DocWrite::Update {
                    id,
                    read,
                    applied,
                    update,
                } => {
                    updates.push(doc! {
                        "q": {
                            "_id": id,
                            "projection.conversationSeq": read.conversation_seq,
                            "projection.ledgerSeq": read.ledger_seq,
                        },
                        "u": update,
                    });
                    expected.push((id, applied));
                }
            }
        }
        let mut conflicted = self.insert_docs(inserts).await?;
        if !updates.is_empty() {
            let statements = updates.len();
            let reply = self
                .db
                .run_command(doc! {
                    "update": self.collection.name(),
                    "updates": updates,
                    "ordered": false,
                })
                .await?;
            check_write_errors(&reply, |_| false)?;
            if matched(&reply) < statements {
                conflicted.extend(self.stale(&expected).await?);
            }
        }
        Ok(conflicted)
    }

    /// Inserts new documents; those another copy inserted first are returned.
    async fn insert_docs(&self, inserts: Vec<Document>) -> Result<HashSet<ObjectId>, Error> {
        let mut conflicted = HashSet::new();
        if inserts.is_empty() {
            return Ok(conflicted);
        }
        let ids: Vec<Option<ObjectId>> = inserts
            .iter()
            .map(|d| d.get_object_id("_id").ok())
            .collect();
        let reply = self
            .db
            .run_command(doc! {
                "insert": self.collection.name(),
                "documents": inserts,
                "ordered": false,
            })
            .await?;
        for index in check_write_errors(&reply, |code| code == DUPLICATE_KEY)? {
            if let Some(Some(id)) = ids.get(index) {
                conflicted.insert(*id);
            }
        }
        Ok(conflicted)
    }

    /// Of the updates expected to leave each document having applied what
    /// they applied, those that did not. A document that applied exactly
    /// those sequences holds what this write would have written, whoever
    /// wrote it.
    async fn stale(&self, expected: &[(ObjectId, Applied)]) -> Result<Vec<ObjectId>, Error> {
        let ids: Vec<ObjectId> = expected.iter().map(|(id, _)| *id).collect();
        let stored: HashMap<ObjectId, Applied> = self
            .collection
            .find(doc! { "_id": { "$in": ids } })
            .projection(doc! { "projection.conversationSeq": 1, "projection.ledgerSeq": 1 })
            .await?
            .try_collect::<Vec<Document>>()
            .await?
            .into_iter()
            .filter_map(|d| Some((d.get_object_id("_id").ok()?, Applied::of_stored(&d)?)))
            .collect();
        Ok(expected
            .iter()
            .filter(|(id, version)| stored.get(id) != Some(version))
            .map(|(id, _)| *id)
            .collect())
    }

    /// Writes overflow changes in their order, each run of inserts or of
    /// updates as one command.
    async fn write_overflow(&self, writes: Vec<overflow::Write>) -> Result<(), Error> {
        let mut run = Run::None;
        for write in writes {
            run = match (run, write) {
                (Run::Inserts(mut docs), overflow::Write::Insert(doc)) => {
                    docs.push(doc);
                    Run::Inserts(docs)
                }
                (Run::Updates(mut statements), overflow::Write::Update(statement)) => {
                    statements.push(statement);
                    Run::Updates(statements)
                }
                (done, next) => {
                    self.flush_overflow(done).await?;
                    match next {
                        overflow::Write::Insert(doc) => Run::Inserts(vec![doc]),
                        overflow::Write::Update(statement) => Run::Updates(vec![statement]),
                        overflow::Write::Clear(conversation) => {
                            self.messages
                                .delete_many(doc! { "conversationId": conversation })
                                .await?;
                            Run::None
                        }
                    }
                }
            };
        }
        self.flush_overflow(run).await
    }

    async fn flush_overflow(&self, run: Run) -> Result<(), Error> {
        match run {
            Run::None => Ok(()),
            Run::Inserts(documents) => {
                let reply = self
                    .db
                    .run_command(doc! {
                        "insert": self.messages.name(),
                        "documents": documents,
                        "ordered": false,
                    })
                    .await?;
                check_write_errors(&reply, |code| code == DUPLICATE_KEY)?;
                Ok(())
            }
            Run::Updates(statements) => {
                // In order: a correction may follow another of the same message.
                let reply = self
                    .db
                    .run_command(doc! {
                        "update": self.messages.name(),
                        "updates": statements,
                        "ordered": true,
                    })
                    .await?;
                check_write_errors(&reply, |_| false)?;
                Ok(())
            }
        }
    }
}

/// Consecutive overflow writes of one kind, sent as one command.
enum Run {
    None,
    Inserts(Vec<Document>),
    Updates(Vec<Document>),
}

/// The indexes of the write errors `tolerated` accepts; any other write
/// error fails the write.
pub(crate) fn check_write_errors(
    reply: &Document,
    tolerated: impl Fn(i32) -> bool,
) -> Result<Vec<usize>, Error> {
    let Ok(errors) = reply.get_array("writeErrors") else {
        return Ok(Vec::new());
    };
    let mut indexes = Vec::new();
    for error in errors {
        let Bson::Document(error) = error else {
            continue;
        };
        let code = error.get_i32("code").unwrap_or_default();
        if !tolerated(code) {
            return Err(Error::WriteRefused {
                code,
                message: error.get_str("errmsg").unwrap_or_default().to_owned(),
            });
        }
        if let Some(index) = error
            .get("index")
            .and_then(Bson::as_i32)
            .and_then(|i| usize::try_from(i).ok())
        {
            indexes.push(index);
        }
    }
    Ok(indexes)
}

pub(crate) fn matched(reply: &Document) -> usize {
    let n = match reply.get("n") {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        _ => 0,
    };
    usize::try_from(n).unwrap_or(0)
}

pub(crate) fn oid(id: ConversationId) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}
