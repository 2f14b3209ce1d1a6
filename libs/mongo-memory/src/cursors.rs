//! Open cursors: the rest of a query's results, served by `getMore`.
//! Results are taken as a snapshot when the query runs. Batches are cut
//! outside the lock, which is held only to file or fetch a cursor.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bson::{Document, doc};

use crate::error::{CommandError, code};
use crate::wire::encoded_size;

/// A find's first batch holds this many documents unless `batchSize` says otherwise.
pub const DEFAULT_FIRST_BATCH: usize = 101;
/// A batch stops growing past this many bytes, as MongoDB's replies stay under 16 MB.
const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024 - 16 * 1024;
/// The oldest cursors are dropped beyond this many, so abandoned ones cannot pile up.
const MAX_OPEN_CURSORS: usize = 10_000;

#[derive(Debug)]
struct Cursor {
    namespace: String,
    remaining: VecDeque<Document>,
}

/// All open cursors.
#[derive(Debug, Default)]
pub struct Cursors {
    inner: Mutex<Open>,
}

/// Cursors keyed by id (ids only grow, so the first is the oldest).
#[derive(Debug, Default)]
struct Open {
    cursors: BTreeMap<i64, Cursor>,
    last_id: i64,
}

impl Cursors {
    /// Cuts the first batch off `results` and opens a cursor over the rest,
    /// returning the `cursor` reply field (`firstBatch`, `id`, `ns`).
    pub fn first_batch(
        &self,
        namespace: &str,
        results: Vec<Document>,
        batch_size: Option<usize>,
        single_batch: bool,
    ) -> Document {
        let mut remaining = VecDeque::from(results);
        let batch = take_batch(
            &mut remaining,
            Some(batch_size.unwrap_or(DEFAULT_FIRST_BATCH)),
        );
        let id = if remaining.is_empty() || single_batch {
            0
        } else {
            self.open(namespace, remaining)
        };
        doc! { "firstBatch": batch, "id": id, "ns": namespace }
    }

    /// Serves `getMore` on cursor `id` in `namespace`.
    pub fn next_batch(
        &self,
        id: i64,
        namespace: &str,
        batch_size: Option<usize>,
    ) -> Result<Document, CommandError> {
        let taken = {
            let mut open = self.lock();
            match open.cursors.get(&id) {
                Some(cursor) if cursor.namespace == namespace => open.cursors.remove(&id),
                _ => None,
            }
        };
        let mut cursor = taken.ok_or_else(|| {
            CommandError::new(code::CURSOR_NOT_FOUND, format!("cursor id {id} not found"))
        })?;
        let batch = take_batch(&mut cursor.remaining, batch_size);
        let next_id = if cursor.remaining.is_empty() {
            0
        } else {
            self.lock().cursors.insert(id, cursor);
            id
        };
        Ok(doc! { "nextBatch": batch, "id": next_id, "ns": namespace })
    }

    /// Kills the listed cursors, returning (killed, not found).
    pub fn kill(&self, ids: &[i64]) -> (Vec<i64>, Vec<i64>) {
        let mut open = self.lock();
        ids.iter().partition(|id| open.cursors.remove(id).is_some())
    }

    fn open(&self, namespace: &str, remaining: VecDeque<Document>) -> i64 {
        let mut open = self.lock();
        while open.cursors.len() >= MAX_OPEN_CURSORS {
            open.cursors.pop_first();
        }
        open.last_id += 1;
        let id = open.last_id;
        let cursor = Cursor {
            namespace: namespace.to_owned(),
            remaining,
        };
        open.cursors.insert(id, cursor);
        id
    }

    // Poisoning needs a panic between two map operations; the map stays valid.
    fn lock(&self) -> MutexGuard<'_, Open> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes up to `limit` documents (all when `None`), stopping before 16 MB.
fn take_batch(remaining: &mut VecDeque<Document>, limit: Option<usize>) -> Vec<Document> {
    let limit = limit.unwrap_or(usize::MAX);
    let mut batch = Vec::new();
    let mut bytes = 0;
    while batch.len() < limit {
        let Some(next) = remaining.front() else { break };
        let size = encoded_size(next);
        if !batch.is_empty() && bytes + size > MAX_BATCH_BYTES {
            break;
        }
        bytes += size;
        batch.extend(remaining.pop_front());
    }
    batch
}
