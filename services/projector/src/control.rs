//! `projector_control`: per target, the projection version its collections
//! were built by, the rebuild lease (one rebuild at a time) and the pause.
//! While a rebuild catches up and swaps its collections in, it pauses the
//! target: live copies write nothing (they check before every batch), then
//! resume from the checkpoints the rebuild left, so nothing written to the
//! log meanwhile is lost or applied out of order. A lease or pause left by
//! a killed rebuild lapses.

use std::time::Duration;

use chrono::Utc;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::{Collection, Database};

use crate::error::Error;
use crate::store::DUPLICATE_KEY;

/// The control collection.
pub const COLLECTION: &str = "projector_control";
/// The version of what this build projects. Raise it whenever a change
/// makes stored documents differ from what this build would write: a
/// service started with a newer version rebuilds by itself.
pub const PROJECTION_VERSION: i64 = 3;
/// How long a rebuild's lease lasts: another holder can rebuild after a
/// killed rebuild once it lapses (the same holder at once).
pub const LEASE: Duration = Duration::from_secs(600);
/// How long a pause lasts at most (a killed rebuild's pause lapses).
pub const PAUSE: Duration = Duration::from_secs(60);
/// How long a pausing rebuild waits for batches live copies had already
/// begun before they saw the pause.
pub const PAUSE_GRACE: Duration = Duration::from_secs(2);

/// The control document of one target.
#[derive(Clone, Debug)]
pub struct Control {
    collection: Collection<Document>,
    target: String,
}

/// What live copies must respect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// Changed by every swap: a copy that read another one resumes from
    /// the checkpoints.
    pub generation: i64,
    /// A rebuild holds the lease: write nothing.
    pub paused: bool,
    pub version: i64,
}

impl Control {
    pub fn new(db: &Database, target: &str) -> Self {
        Self {
            collection: db.collection(COLLECTION),
            target: target.to_owned(),
        }
    }

    pub async fn state(&self) -> Result<State, Error> {
        let stored = self
            .collection
            .find_one(doc! { "_id": self.target.as_str() })
            .await?
            .unwrap_or_default();
        let number = |key| match stored.get(key) {
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Int32(n)) => i64::from(*n),
            _ => 0,
        };
        let paused =
            matches!(stored.get("pausedUntil"), Some(Bson::DateTime(until)) if *until > now());
        Ok(State {
            generation: number("generation"),
            paused,
            version: number("version"),
        })
    }

    /// Takes (or renews, for `holder`) the rebuild lease; false when another
    /// rebuild holds it.
    pub async fn lease(&self, holder: &str) -> Result<bool, Error> {
        let until = after(LEASE);
        let taken = self
            .collection
            .update_one(
                doc! {
                    "_id": self.target.as_str(),
                    "$or": [
                        { "leaseUntil": { "$exists": false } },
                        { "leaseUntil": { "$lt": now() } },
                        { "leaseHolder": holder },
                    ],
                },
                doc! { "$set": { "leaseUntil": until, "leaseHolder": holder } },
            )
            .upsert(true)
            .await;
        match taken {
            Ok(_) => Ok(true),
            Err(error) if is_duplicate(&error) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Pauses live copies (the lease holder only), moving to a new generation.
    pub async fn pause(&self, holder: &str) -> Result<(), Error> {
        self.collection
            .update_one(
                doc! { "_id": self.target.as_str(), "leaseHolder": holder },
                doc! {
                    "$set": { "pausedUntil": after(PAUSE) },
                    "$inc": { "generation": 1_i64 },
                },
            )
            .await?;
        Ok(())
    }

    /// Ends `holder`'s lease and pause, recording the version its
    /// collections hold (`None`: they were not swapped in).
    pub async fn release(&self, holder: &str, version: Option<i64>) -> Result<(), Error> {
        let mut update = doc! {
            "$unset": { "leaseUntil": "", "leaseHolder": "", "pausedUntil": "" },
            "$inc": { "generation": 1_i64 },
        };
        if let Some(version) = version {
            update.insert("$set", doc! { "version": version });
        }
        self.collection
            .update_one(
                doc! { "_id": self.target.as_str(), "leaseHolder": holder },
                update,
            )
            .await?;
        Ok(())
    }
}

fn after(duration: Duration) -> DateTime {
    DateTime::from_millis(
        now()
            .timestamp_millis()
            .saturating_add(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)),
    )
}

fn now() -> DateTime {
    DateTime::from_millis(Utc::now().timestamp_millis())
}

fn is_duplicate(error: &mongodb::error::Error) -> bool {
    match error.kind.as_ref() {
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(e)) => {
            e.code == DUPLICATE_KEY
        }
        _ => false,
    }
}
