//! `projector_control`: per target, the projection version its collections
//! were built by, the rebuild lease (one rebuild at a time), the pause and
//! the live copies in the middle of a batch (`writers`).
//!
//! While a rebuild catches up and swaps its collections in, it pauses the
//! target. A live copy *enters* before every batch, in one conditional
//! update that only matches while the target is not paused and still of the
//! copy's generation, recording `writers.<copy>` = now; it *leaves* (unsets
//! it) once the batch's documents and checkpoints are written. So after the
//! pause no copy can begin a batch, and the rebuild waits until those that
//! began one before have left ([`writers_in_batch`] empty) before it drains
//! the rest of the log and swaps. Live copies then resume from the
//! checkpoints the rebuild left, so nothing written to the log meanwhile is
//! lost or applied out of order.
//!
//! A lease or pause left by a killed rebuild lapses; so does the entry of a
//! copy killed mid-batch ([`WRITER_BOUND`]). What such a copy wrote is
//! harmless: it went to live collections the swap replaces whole, and its
//! checkpoints are replaced by the rebuild's (a rebuild of one read model
//! keeps the others and their checkpoints: the partial batch is replayed,
//! and every document write is guarded by what the document applied).

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
/// How long after entering a `writers` entry may still be of a copy in its
/// batch: past it, the copy was killed mid-batch, or gave its batch up
/// ([`BATCH_LIMIT`]) and the commands it had sent are long done, and a
/// rebuild no longer waits for it. Shorter than [`PAUSE`], so that the
/// rebuild still has the pause to drain and swap in.
pub const WRITER_BOUND: Duration = Duration::from_secs(20);
/// The longest a live copy's batch may take (one read of the documents it
/// touches, one insert and one update command, two checkpoints: well under
/// a second even for [`crate::config::DEFAULT_BATCH_EVENTS`] events); a
/// slower one is given up and retried, keeping what it wrote, so that a
/// copy never writes for [`WRITER_BOUND`] after entering.
pub const BATCH_LIMIT: Duration = Duration::from_secs(10);
/// How often a pausing rebuild looks whether the copies mid-batch have left.
pub const WRITERS_POLL: Duration = Duration::from_millis(20);

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

    /// The stored control document (empty when there is none yet).
    pub async fn document(&self) -> Result<Document, Error> {
        Ok(self
            .collection
            .find_one(doc! { "_id": self.target.as_str() })
            .await?
            .unwrap_or_default())
    }

    pub async fn state(&self) -> Result<State, Error> {
        let stored = self.document().await?;
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

    /// Records that `writer` begins a batch, if the target is neither paused
    /// nor past `generation`; false when it is (the copy must stop and
    /// resume from the checkpoints). One update, so a pause is either seen
    /// here or lands after the entry, which the rebuild then waits for.
    pub async fn enter(&self, writer: &str, generation: i64) -> Result<bool, Error> {
        let mut same_generation = vec![doc! { "generation": generation }];
        if generation == 0 {
            // No rebuild has paused or released this target yet.
            same_generation.push(doc! { "generation": { "$exists": false } });
        }
        let entered = self
            .collection
            .update_one(
                doc! {
                    "_id": self.target.as_str(),
                    "$and": [
                        { "$or": same_generation },
                        { "$or": [
                            { "pausedUntil": { "$exists": false } },
                            { "pausedUntil": { "$lte": now() } },
                        ] },
                    ],
                },
                doc! { "$set": { format!("{WRITERS}.{writer}"): now() } },
            )
            // A target no rebuild ever touched has no control document yet.
            .upsert(true)
            .await;
        match entered {
            Ok(result) => Ok(result.matched_count > 0 || result.upserted_id.is_some()),
            // The document exists but did not match: paused or swapped.
            Err(error) if is_duplicate(&error) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Records that `writer`'s batch is written (or failed).
    pub async fn leave(&self, writer: &str) -> Result<(), Error> {
        self.collection
            .update_one(
                doc! { "_id": self.target.as_str() },
                doc! { "$unset": { format!("{WRITERS}.{writer}"): "" } },
            )
            .await?;
        Ok(())
    }

    /// Forgets the entries of `instance`'s copies: called when the instance
    /// (re)starts, before any of its copies enters, so those are of a killed
    /// predecessor and no rebuild need wait for them. Instance names must
    /// differ between running processes (as lease holders' must).
    pub async fn forget_writers(&self, instance: &str) -> Result<(), Error> {
        let prefix = format!("{}-", writer_name(instance));
        let stored = self.document().await?;
        let Ok(writers) = stored.get_document(WRITERS) else {
            return Ok(());
        };
        let mut unset = Document::new();
        for writer in writers.keys().filter(|w| w.starts_with(&prefix)) {
            unset.insert(format!("{WRITERS}.{writer}"), "");
        }
        if unset.is_empty() {
            return Ok(());
        }
        self.collection
            .update_one(
                doc! { "_id": self.target.as_str() },
                doc! { "$unset": unset },
            )
            .await?;
        Ok(())
    }

    /// Waits until no live copy is mid-batch ([`writers_in_batch`]), looking
    /// every [`WRITERS_POLL`]; after a pause, nothing enters again.
    pub async fn await_writers(&self) -> Result<(), Error> {
        loop {
            let stored = self.document().await?;
            let writing = writers_in_batch(&stored, now(), WRITER_BOUND);
            if writing.is_empty() {
                return Ok(());
            }
            tracing::debug!(?writing, "waiting for live copies to finish their batch");
            tokio::time::sleep(WRITERS_POLL).await;
        }
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

/// The field of the copies mid-batch: writer name → when it entered.
const WRITERS: &str = "writers";

/// The live copies of a control document still in a batch at `now`: those
/// that entered less than `bound` ago (an older entry is of a copy killed
/// mid-batch). A pausing rebuild may drain and swap once there are none.
pub fn writers_in_batch(control: &Document, now: DateTime, bound: Duration) -> Vec<String> {
    let Ok(writers) = control.get_document(WRITERS) else {
        return Vec::new();
    };
    let bound_ms = i64::try_from(bound.as_millis()).unwrap_or(i64::MAX);
    writers
        .iter()
        .filter(|(_, entered)| match entered {
            Bson::DateTime(entered) => {
                now.timestamp_millis() < entered.timestamp_millis().saturating_add(bound_ms)
            }
            // Not written by `enter`: nothing to wait for.
            _ => false,
        })
        .map(|(writer, _)| writer.clone())
        .collect()
}

/// A name for `writers` entries: MongoDB paths cannot hold `.` nor a
/// field begin with `$`.
pub fn writer_name(name: &str) -> String {
    name.replace(['.', '$'], "_")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime {
        DateTime::from_millis(ms)
    }

    #[test]
    fn a_rebuild_waits_for_recent_writers_only() {
        let bound = Duration::from_secs(20);
        let control = doc! {
            "_id": "conversations",
            "writers": {
                "a-0": at(100_000),
                "b-0": at(81_000),
                "killed-0": at(80_000),
                "odd": "not a time",
            },
        };
        assert_eq!(
            writers_in_batch(&control, at(100_000), bound),
            ["a-0", "b-0"]
        );
        assert_eq!(writers_in_batch(&control, at(101_000), bound), ["a-0"]);
        assert!(writers_in_batch(&control, at(120_000), bound).is_empty());
    }

    #[test]
    fn nobody_entered_nothing_to_wait_for() {
        let bound = Duration::from_secs(20);
        assert!(writers_in_batch(&doc! {}, at(0), bound).is_empty());
        assert!(writers_in_batch(&doc! { "writers": {} }, at(0), bound).is_empty());
    }

    #[test]
    fn writer_names_are_single_fields() {
        assert_eq!(writer_name("host.example.com-1"), "host_example_com-1");
        assert_eq!(writer_name("$x"), "_x");
    }
}
