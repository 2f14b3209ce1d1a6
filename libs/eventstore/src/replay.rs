//! Replaying a whole stream, for rebuilds of read models and metrics.

use async_nats::jetstream::consumer::DeliverPolicy;
use chrono::{DateTime, Utc};
use futures::Stream;

use crate::error::Error;
use crate::read::LogMessage;
use crate::store::EventStore;
use crate::stream::StreamName;

/// Where a replay starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayFrom {
    Beginning,
    /// From this stream sequence, inclusive.
    Sequence(u64),
    /// From the first event stored at or after this time.
    Time(DateTime<Utc>),
}

impl EventStore {
    /// Every message of `stream` from `from`, in stream order, up to the last
    /// one stored when the replay began. Messages come undecoded so one event
    /// this build cannot read does not stop a rebuild.
    pub async fn replay(
        &self,
        stream: StreamName,
        from: ReplayFrom,
    ) -> Result<impl Stream<Item = Result<LogMessage, Error>> + use<>, Error> {
        self.read_snapshot(stream, None, deliver(from)).await
    }

    /// [`replay`](Self::replay) of the messages on `subject` alone (one
    /// aggregate's, or one account's).
    pub async fn replay_subject(
        &self,
        stream: StreamName,
        subject: &str,
        from: ReplayFrom,
    ) -> Result<impl Stream<Item = Result<LogMessage, Error>> + use<>, Error> {
        self.read_snapshot(stream, Some(subject.to_owned()), deliver(from))
            .await
    }
}

fn deliver(from: ReplayFrom) -> DeliverPolicy {
    match from {
        ReplayFrom::Beginning | ReplayFrom::Sequence(0) => DeliverPolicy::All,
        ReplayFrom::Sequence(start_sequence) => DeliverPolicy::ByStartSequence { start_sequence },
        ReplayFrom::Time(start_time) => DeliverPolicy::ByStartTime { start_time },
    }
}
