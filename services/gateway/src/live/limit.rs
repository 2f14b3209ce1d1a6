//! `LiveCalls`: the cap on live calls one user holds open, across every
//! gateway copy, kept in the NATS KV bucket [`BUCKET`].
//!
//! Each user has one entry: the leases of their open calls. A call is let in
//! by a compare-and-set of that entry on its revision (a race between copies
//! makes one retry against the other's write), holds a lease that its copy
//! renews every third of [`LiveCalls::lease`] while it runs, and gives it back
//! when it ends. A copy that dies stops renewing: its leases lapse after one
//! lease period and stop counting. Lease times are wall-clock, so copies'
//! clocks must agree to well within a lease (NTP does).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, kv};
use events::UserId;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::kv::{BucketError, bucket};

pub const BUCKET: &str = "parlor_live_calls";
/// How long a lease lasts unrenewed: the longest a dead copy's calls count.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// The longest lease a copy may use (entries idle this long are dropped).
pub const MAX_LEASE: Duration = Duration::from_secs(10 * 60);
/// Entries unwritten this long are gone: no call renews them any more.
const ENTRY_MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// Compare-and-set attempts before giving up on a contended entry.
const CAS_ATTEMPTS: usize = 16;
/// A KV operation slower than this counts as NATS being down.
const KV_TIMEOUT: Duration = Duration::from_secs(5);
/// What a busy caller is told to wait: calls end when people hang up, so
/// there is no better guess than "a little while".
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(10);
pub const BUSY_REASON: &str = "busy: too many live calls for this user";

#[derive(Debug, thiserror::Error)]
pub enum CallRefused {
    #[error("{BUSY_REASON}")]
    Busy,
    /// NATS KV did not answer; the text is for the log, not the client.
    #[error("the live-call count is unavailable, try again later")]
    Unavailable(String),
}

impl From<CallRefused> for ApiError {
    fn from(refused: CallRefused) -> Self {
        match refused {
            CallRefused::Busy => ApiError::TooManyRequests {
                reason: BUSY_REASON.to_owned(),
                retry_after: BUSY_RETRY_AFTER,
            },
            CallRefused::Unavailable(_) => ApiError::Unavailable("the live-call count"),
        }
    }
}

/// One user's entry: their open calls' leases.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Leases {
    calls: Vec<Lease>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Lease {
    id: String,
    /// Unix milliseconds.
    until_ms: u64,
}

impl Leases {
    /// The leases still running at `now_ms`.
    fn live(mut self, now_ms: u64) -> Self {
        self.calls.retain(|lease| lease.until_ms > now_ms);
        self
    }

    fn without(mut self, id: &str) -> Self {
        self.calls.retain(|lease| lease.id != id);
        self
    }
}

pub struct LiveCalls {
    kv: kv::Store,
    per_user_max: usize,
    lease: Duration,
}

/// One open call. Renews its lease while held; [`LiveCall::end`] (or, as a
/// fallback, dropping it) gives the slot back.
pub struct LiveCall {
    calls: Arc<LiveCalls>,
    user_id: UserId,
    id: String,
    renewing: CancellationToken,
    ended: bool,
}

impl LiveCalls {
    pub async fn open(
        js: &jetstream::Context,
        per_user_max: usize,
        lease: Duration,
    ) -> Result<Arc<Self>, BucketError> {
        let description = "open live calls per user, as leases";
        Ok(Arc::new(Self {
            kv: bucket(js, BUCKET, description, ENTRY_MAX_AGE).await?,
            per_user_max,
            lease: lease.min(MAX_LEASE),
        }))
    }

    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// A slot for `user_id`, or [`CallRefused::Busy`] when the user already
    /// holds the limit on all copies together.
    pub async fn begin(self: &Arc<Self>, user_id: UserId) -> Result<LiveCall, CallRefused> {
        let id = hex::encode(rand::random::<[u8; 12]>());
        let admitted = self.change(user_id, |leases, now_ms| {
            let mut leases = leases.live(now_ms);
            if leases.calls.len() >= self.per_user_max {
                return None;
            }
            leases.calls.push(Lease {
                id: id.clone(),
                until_ms: now_ms + millis(self.lease),
            });
            Some(leases)
        });
        if !admitted.await? {
            return Err(CallRefused::Busy);
        }
        let renewing = CancellationToken::new();
        tokio::spawn(Arc::clone(self).renew(user_id, id.clone(), renewing.clone()));
        Ok(LiveCall {
            calls: Arc::clone(self),
            user_id,
            id,
            renewing,
            ended: false,
        })
    }

    /// Renews the call's lease until `stop` (re-adding it should another copy
    /// have pruned it after a partition: the call is running either way).
    async fn renew(self: Arc<Self>, user_id: UserId, id: String, stop: CancellationToken) {
        let mut every = tokio::time::interval(self.lease / 3);
        every.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            let renewed = self
                .change(user_id, |leases, now_ms| {
                    let mut leases = leases.live(now_ms).without(&id);
                    leases.calls.push(Lease {
                        id: id.clone(),
                        until_ms: now_ms + millis(self.lease),
                    });
                    Some(leases)
                })
                .await;
            if let Err(error) = renewed {
                tracing::warn!(%user_id, %error, "could not renew a live call's lease");
            }
        }
    }

    async fn release(&self, user_id: UserId, id: &str) {
        let released = self
            .change(user_id, |leases, now_ms| {
                Some(leases.live(now_ms).without(id))
            })
            .await;
        if let Err(error) = released {
            tracing::warn!(%user_id, %error, "could not release a live call; its lease will lapse");
        }
    }

    /// Applies `edit` to the user's entry by compare-and-set, retrying on a
    /// concurrent write. `edit` returning `None` leaves the entry alone and
    /// answers `Ok(false)`.
    async fn change(
        &self,
        user_id: UserId,
        mut edit: impl FnMut(Leases, u64) -> Option<Leases>,
    ) -> Result<bool, CallRefused> {
        let key = user_id.to_string();
        for _ in 0..CAS_ATTEMPTS {
            let entry = within(self.kv.entry(&key)).await?.map_err(unavailable)?;
            let (leases, revision) = match entry {
                Some(entry) if entry.operation == kv::Operation::Put => (
                    serde_json::from_slice(&entry.value).unwrap_or_default(),
                    Some(entry.revision),
                ),
                Some(entry) => (Leases::default(), Some(entry.revision)),
                None => (Leases::default(), None),
            };
            let Some(changed) = edit(leases, now_ms()) else {
                return Ok(false);
            };
            let value = serde_json::to_vec(&changed)
                .expect("leases serialize")
                .into();
            // A lost race is `WrongLastRevision` (or `AlreadyExists` when
            // both copies made the entry): read again and retry.
            match revision {
                Some(revision) => match within(self.kv.update(&key, value, revision)).await? {
                    Ok(_) => return Ok(true),
                    Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {}
                    Err(e) => return Err(unavailable(e)),
                },
                None => match within(self.kv.create(&key, value)).await? {
                    Ok(_) => return Ok(true),
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
                    Err(e) => return Err(unavailable(e)),
                },
            }
        }
        Err(unavailable("the user's entry kept changing"))
    }
}

impl LiveCall {
    /// Gives the slot back now.
    pub async fn end(mut self) {
        self.ended = true;
        self.renewing.cancel();
        self.calls.release(self.user_id, &self.id).await;
    }
}

impl Drop for LiveCall {
    fn drop(&mut self) {
        self.renewing.cancel();
        if self.ended {
            return;
        }
        // Not ended on purpose (a refused upgrade, a panic): release in the
        // background if a runtime is still there, else the lease lapses.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let calls = Arc::clone(&self.calls);
            let (user_id, id) = (self.user_id, std::mem::take(&mut self.id));
            runtime.spawn(async move { calls.release(user_id, &id).await });
        }
    }
}

/// `operation`, or `Unavailable` when NATS does not answer in time.
async fn within<T>(operation: impl Future<Output = T>) -> Result<T, CallRefused> {
    tokio::time::timeout(KV_TIMEOUT, operation)
        .await
        .map_err(|_| unavailable("NATS KV timed out"))
}

fn unavailable(error: impl std::fmt::Display) -> CallRefused {
    tracing::warn!(%error, "live-call count unavailable");
    CallRefused::Unavailable(error.to_string())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(id: &str, until_ms: u64) -> Lease {
        Lease {
            id: id.into(),
            until_ms,
        }
    }

    #[test]
    fn lapsed_leases_stop_counting_and_one_can_be_removed() {
        let leases = Leases {
            calls: vec![lease("a", 100), lease("b", 200), lease("c", 300)],
        };
        let live = leases.live(200);
        assert_eq!(live.calls, vec![lease("c", 300)]);
        assert!(live.without("c").calls.is_empty());
    }
}
