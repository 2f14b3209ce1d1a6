//! The `conversations` collection: indexes, and the read-change-write of one
//! document under optimistic concurrency (the stored `projection.version`
//! must still be the one read), so the two stream consumers and any number
//! of projector copies never overwrite each other's changes.

use events::ConversationId;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};

use crate::document::ConversationDoc;
use crate::error::Error;

/// The read model's collection name (DESIGN §3).
pub const COLLECTION: &str = "conversations";
/// Read-change-write rounds before giving up on a contended document (the
/// event is then redelivered).
pub const MAX_ATTEMPTS: usize = 16;

/// A handle on one conversations collection (the live one or a rebuild's).
#[derive(Clone, Debug)]
pub struct Conversations {
    collection: Collection<Document>,
}

impl Conversations {
    pub fn new(db: &Database, name: &str) -> Self {
        Self {
            collection: db.collection(name),
        }
    }

    /// The live `conversations` collection of `db`.
    pub fn live(db: &Database) -> Self {
        Self::new(db, COLLECTION)
    }

    pub fn name(&self) -> &str {
        self.collection.name()
    }

    /// Creates the collection's indexes: `userId` and `agentId` (as the
    /// Prisma schema declares), and `userId` + `startedAt` for a user's
    /// newest conversations first.
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

    /// Changes conversation `id`'s document (made by `create` when there is
    /// none yet) with `change`, which returns false to leave it as it is.
    /// Returns whether a change was written.
    pub async fn update(
        &self,
        id: ConversationId,
        create: impl Fn() -> ConversationDoc,
        change: impl Fn(&mut ConversationDoc) -> bool,
    ) -> Result<bool, Error> {
        for _ in 0..MAX_ATTEMPTS {
            let stored = self.get(id).await?;
            let version = stored.as_ref().map(|d| d.projection.version);
            let mut doc = stored.unwrap_or_else(&create);
            if !change(&mut doc) {
                return Ok(false);
            }
            doc.projection.version = version.unwrap_or(0).saturating_add(1);
            if self.write(id, version, &doc).await? {
                return Ok(true);
            }
        }
        Err(Error::Contended {
            id,
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Inserts documents that are not stored yet, in as few round trips as
    /// the driver can.
    pub async fn insert_new(&self, docs: &[ConversationDoc]) -> Result<(), Error> {
        if docs.is_empty() {
            return Ok(());
        }
        let docs = docs
            .iter()
            .map(ConversationDoc::to_bson)
            .collect::<Result<Vec<_>, _>>()?;
        self.collection.insert_many(docs).await?;
        Ok(())
    }

    /// Writes `doc` if the stored version is still `read_version` (`None`:
    /// if there is still no document). False when someone wrote first.
    pub async fn write(
        &self,
        id: ConversationId,
        read_version: Option<i64>,
        doc: &ConversationDoc,
    ) -> Result<bool, Error> {
        let mut fields = doc.to_bson()?;
        // The upsert seeds `_id` from the filter; `$set` may not touch it.
        fields.remove("_id");
        match read_version {
            None => {
                let result = self
                    .collection
                    .update_one(doc! { "_id": oid(id) }, doc! { "$setOnInsert": fields })
                    .upsert(true)
                    .await?;
                Ok(result.upserted_id.is_some())
            }
            Some(version) => {
                let result = self
                    .collection
                    .update_one(
                        doc! { "_id": oid(id), "projection.version": version },
                        doc! { "$set": fields },
                    )
                    .await?;
                Ok(result.matched_count == 1)
            }
        }
    }

    pub(crate) fn collection(&self) -> &Collection<Document> {
        &self.collection
    }
}

fn oid(id: ConversationId) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}
