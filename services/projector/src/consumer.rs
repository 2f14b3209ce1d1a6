//! The live projection: both streams from their checkpoints, in batches of
//! whatever has arrived (up to a limit), each batch written and then
//! checkpointed. Driven until caught up (tests, rebuilds) or until shutdown
//! (the service).
//!
//! Copies need no coordination: each reads both streams in order and
//! writes under optimistic concurrency, so a copy that loses a race reloads
//! and finds the events applied. Two copies make the same documents as one.
//! Before each batch a live copy enters the target's [`Control`] and leaves
//! it once the batch is written: while a rebuild swaps collections in it
//! cannot enter, so it waits, then resumes from the checkpoints.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use eventstore::{EventStore, LogMessage, ReplayFrom, StreamName};
use futures::{Stream, StreamExt, TryStreamExt};

use crate::batch::{Applied, Batcher};
use crate::checkpoint::Checkpoints;
use crate::config::{self, Tuning};
use crate::control::{self, Control};
use crate::error::Error;
use crate::feed;
use crate::store::Conversations;

/// The projector of one target collection.
pub struct Projector {
    store: EventStore,
    batcher: Batcher,
    checkpoints: Checkpoints,
    control: Control,
    /// This copy's name in the control's `writers`.
    writer: String,
    tuning: Tuning,
}

/// A log message and the stream it came from.
type Tagged = (StreamName, LogMessage);

/// Projectors started in this process so far: each copy's writer name is
/// the instance's and its number.
static STARTED: AtomicU64 = AtomicU64::new(0);

/// Where a bounded drain starts and stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Where each stream starts when there is no checkpoint yet.
    pub from: Option<ReplayFrom>,
    /// The last event of each stream to project, by sequence or time.
    pub until: Option<Until>,
}

/// The end of an "as of" view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// Stream sequences up to this one (of each stream).
    Sequence(u64),
    /// Events that occurred up to this time.
    Time(chrono::DateTime<chrono::Utc>),
}

impl Until {
    pub(crate) fn admits(self, message: &LogMessage) -> bool {
        match self {
            Self::Sequence(last) => message.sequence <= last,
            Self::Time(last) => message.raw().is_ok_and(|raw| raw.occurred_at <= last),
        }
    }
}

impl Projector {
    /// Ensures the target's indexes; projects with the default tuning.
    pub async fn start(store: &EventStore, target: Conversations) -> Result<Self, Error> {
        Self::start_with(store, target, Tuning::default()).await
    }

    pub async fn start_with(
        store: &EventStore,
        target: Conversations,
        tuning: Tuning,
    ) -> Result<Self, Error> {
        let checkpoints = Checkpoints::new(target.database(), target.name());
        let control = Control::new(target.database(), target.name());
        let batcher = Batcher::new(target, &tuning);
        batcher.ensure_indexes().await?;
        Ok(Self {
            store: store.clone(),
            batcher,
            checkpoints,
            control,
            writer: control::writer_name(&format!(
                "{}-{}",
                config::writer_instance(),
                STARTED.fetch_add(1, Ordering::Relaxed)
            )),
            tuning,
        })
    }

    /// Refreshes rollups once per drain rather than once per batch: for a
    /// rebuild's private collections, which nothing reads before it ends.
    pub fn defer_rollups(mut self) -> Self {
        self.batcher.defer_rollups();
        self
    }

    pub fn checkpoints(&self) -> &Checkpoints {
        &self.checkpoints
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Projects what is stored now on both streams, from the checkpoints,
    /// without waiting for more; returns the events read.
    pub async fn drain(&self) -> Result<usize, Error> {
        self.drain_with(Bounds::default(), &mut |_| {}).await
    }

    /// [`drain`](Self::drain) within `bounds`, telling `progress` the
    /// events read so far after each batch.
    pub async fn drain_with(
        &self,
        bounds: Bounds,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<usize, Error> {
        let mut read = 0;
        for stream in StreamName::ALL {
            let from = match (self.checkpoints.load(stream).await?, bounds.from) {
                (0, Some(from)) => from,
                (after, _) => ReplayFrom::Sequence(after.saturating_add(1)),
            };
            let messages = self
                .store
                .replay(stream, from)
                .await?
                .map_err(Error::from)
                .try_take_while(|message| {
                    let admitted = bounds.until.is_none_or(|until| until.admits(message));
                    futures::future::ready(Ok(admitted))
                })
                .map_ok(|message| (stream, message));
            let mut chunks = std::pin::pin!(messages.try_chunks(self.tuning.batch_events));
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|e| e.1)?;
                read += chunk.len();
                self.write(&chunk).await?;
                progress(u64::try_from(read).unwrap_or(u64::MAX));
            }
        }
        self.batcher.flush_rollups().await?;
        Ok(read)
    }

    /// Projects both streams as events arrive until `shutdown` completes.
    /// A failed read or write is retried from the checkpoints after
    /// [`Tuning::retry_delay`]; nothing read is skipped. A batch under way
    /// when `shutdown` completes is written first: a copy stopped mid-batch
    /// would leave its `writers` entry for a rebuild to wait on.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        tokio::pin!(shutdown);
        loop {
            match self.follow(shutdown.as_mut()).await {
                Ok(()) => return Ok(()),
                Err(error) => {
                    tracing::warn!(%error, "projection interrupted; resuming from the checkpoints");
                }
            }
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(self.tuning.retry_delay) => {}
            }
        }
    }

    /// Follows both streams from the checkpoints until `shutdown` completes
    /// (`Ok`), a read or write fails, or a rebuild pauses or swaps the target.
    async fn follow<S: Future<Output = ()>>(&self, mut shutdown: Pin<&mut S>) -> Result<(), Error> {
        let (generation, merged) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            started = self.start_following() => started?,
        };
        let mut merged = std::pin::pin!(merged);
        loop {
            let chunk = tokio::select! {
                () = &mut shutdown => return Ok(()),
                chunk = self.next_chunk(merged.as_mut()) => chunk?,
            };
            if !self.control.enter(&self.writer, generation).await? {
                return Err(Error::Swapped);
            }
            let Ok(written) = tokio::time::timeout(control::BATCH_LIMIT, self.write(&chunk)).await
            else {
                // Staying entered: a command already sent may still land, and
                // a rebuild waits for the entry until WRITER_BOUND.
                return Err(Error::BatchTooSlow {
                    limit_ms: control::BATCH_LIMIT.as_millis(),
                });
            };
            self.control.leave(&self.writer).await?;
            written?;
        }
    }

    /// Waits while the target is paused, then opens both live reads from the
    /// checkpoints; returns the generation they belong to.
    async fn start_following(
        &self,
    ) -> Result<(i64, impl Stream<Item = Result<Tagged, Error>> + use<>), Error> {
        let generation = loop {
            let state = self.control.state().await?;
            if !state.paused {
                break state.generation;
            }
            tokio::time::sleep(self.tuning.retry_delay).await;
        };
        let conversations = self.checkpoints.load(StreamName::Conversations).await?;
        let ledger = self.checkpoints.load(StreamName::Ledger).await?;
        let merged = futures::stream::select(
            feed::follow(&self.store, StreamName::Conversations, conversations).await?,
            feed::follow(&self.store, StreamName::Ledger, ledger).await?,
        );
        Ok((generation, merged))
    }

    /// The next batch of `merged`: under load it fills at once; when quiet,
    /// an event waits at most `batch_linger` for company.
    async fn next_chunk(
        &self,
        mut merged: Pin<&mut impl Stream<Item = Result<Tagged, Error>>>,
    ) -> Result<Vec<Tagged>, Error> {
        let Some(first) = merged.next().await else {
            return Err(Error::Feed {
                stream: "both",
                message: "the live read ended".to_owned(),
            });
        };
        let mut chunk = vec![first?];
        let deadline = tokio::time::Instant::now() + self.tuning.batch_linger;
        while chunk.len() < self.tuning.batch_events {
            match tokio::time::timeout_at(deadline, merged.next()).await {
                Ok(Some(next)) => chunk.push(next?),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(chunk)
    }

    /// Writes one batch, then moves each stream's checkpoint past it.
    async fn write(&self, chunk: &[(StreamName, LogMessage)]) -> Result<Applied, Error> {
        let applied = self.batcher.apply(chunk).await?;
        for stream in StreamName::ALL {
            let last = chunk
                .iter()
                .filter(|(s, _)| *s == stream)
                .map(|(_, m)| m.sequence)
                .max();
            if let Some(last) = last {
                self.checkpoints.advance(stream, last).await?;
            }
        }
        tracing::debug!(
            events = applied.events,
            documents = applied.documents,
            parked = applied.parked,
            "batch projected"
        );
        Ok(applied)
    }
}
