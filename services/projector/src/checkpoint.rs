//! `projector_checkpoints`: per target collection and stream, the last
//! stream sequence whose batch was fully written. A (re)started projector
//! resumes after it; what it replays again changes nothing, because every
//! document records what it last applied. Checkpoints only move forward
//! (`$max`), so copies sharing them never move one back.

use eventstore::StreamName;
use mongodb::bson::{Document, doc};
use mongodb::{Collection, Database};

use crate::error::Error;

/// The checkpoints' collection.
pub const COLLECTION: &str = "projector_checkpoints";

/// The checkpoints of one target (e.g. `conversations`).
#[derive(Clone, Debug)]
pub struct Checkpoints {
    collection: Collection<Document>,
    target: String,
}

impl Checkpoints {
    pub fn new(db: &Database, target: &str) -> Self {
        Self {
            collection: db.collection(COLLECTION),
            target: target.to_owned(),
        }
    }

    fn key(&self, stream: StreamName) -> String {
        format!("{}:{}", self.target, stream.as_str())
    }

    /// The last sequence of `stream` written (0: none).
    pub async fn load(&self, stream: StreamName) -> Result<u64, Error> {
        let stored = self
            .collection
            .find_one(doc! { "_id": self.key(stream) })
            .await?;
        let sequence = stored.and_then(|d| d.get_i64("sequence").ok()).unwrap_or(0);
        Ok(u64::try_from(sequence).unwrap_or(0))
    }

    /// Records that everything of `stream` up to `sequence` is written.
    pub async fn advance(&self, stream: StreamName, sequence: u64) -> Result<(), Error> {
        let sequence = i64::try_from(sequence).unwrap_or(i64::MAX);
        self.collection
            .update_one(
                doc! { "_id": self.key(stream) },
                doc! { "$max": { "sequence": sequence } },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    /// Forgets the target's checkpoints (a rebuild starts from nothing).
    pub async fn reset(&self) -> Result<(), Error> {
        let keys: Vec<String> = StreamName::ALL.iter().map(|s| self.key(*s)).collect();
        self.collection
            .delete_many(doc! { "_id": { "$in": keys } })
            .await?;
        Ok(())
    }
}
