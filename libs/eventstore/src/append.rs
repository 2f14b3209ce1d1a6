//! Appending events to one aggregate, with deduplication and optimistic
//! concurrency (DESIGN §2).

use async_nats::HeaderMap;
use async_nats::header::{NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, NATS_MESSAGE_ID};
use async_nats::jetstream::context::{PublishAckFuture, PublishError, PublishErrorKind};
use events::Envelope;

use crate::error::Error;
use crate::family::Family;
use crate::store::EventStore;

/// What the writer believes the aggregate's version (the stream sequence of
/// its last event) to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever is there; for events that commute (none do yet in
    /// Parlor's services, but tools may need it).
    Any,
    /// The aggregate is exactly at this version; `Exact(0)`: it has no events.
    Exact(u64),
}

/// The outcome of an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The aggregate's version after the append (its last event's sequence).
    pub version: u64,
    /// How many of the events were already stored (a retried append).
    pub duplicates: usize,
}

impl EventStore {
    /// Appends `events` to aggregate `id`, in order.
    ///
    /// Every event is published with its id as `Nats-Msg-Id`, so a retry of
    /// the same events inside the duplicate window is acknowledged as a
    /// duplicate, not stored twice. Each event also carries the sequence the
    /// aggregate must be at, so a concurrent writer gets
    /// [`Error::Conflict`] instead of interleaving. Within one call the
    /// events are chained (each expects the previous one's sequence), which
    /// takes one round trip per event; appends to different aggregates run
    /// concurrently.
    pub async fn append<E: Family>(
        &self,
        id: E::Id,
        expected: ExpectedVersion,
        events: &[Envelope<E>],
    ) -> Result<Appended, Error> {
        let subject = E::subject(id);
        let aggregate = id.to_string();
        if let Some(stray) = events.iter().find(|e| e.meta.aggregate_id != aggregate) {
            return Err(Error::WrongAggregate {
                event_id: stray.meta.id.to_string(),
                event_aggregate: stray.meta.aggregate_id.clone(),
                aggregate,
            });
        }
        let mut expected_seq = match expected {
            ExpectedVersion::Any => None,
            ExpectedVersion::Exact(v) => Some(v),
        };
        let mut appended = Appended {
            version: expected_seq.unwrap_or(0),
            duplicates: 0,
        };
        for event in events {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, event.meta.id.to_string().as_str());
            if let Some(seq) = expected_seq {
                headers.insert(
                    NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                    seq.to_string().as_str(),
                );
            }
            let ack = self
                .jetstream()
                .publish_with_headers(subject.clone(), headers, event.to_json().into())
                .await
                .map_err(|e| publish_error(e, expected_seq))?
                .await
                .map_err(|e| publish_error(e, expected_seq))?;
            if ack.duplicate {
                appended.duplicates += 1;
            }
            appended.version = ack.sequence;
            expected_seq = Some(ack.sequence);
        }
        Ok(appended)
    }
}

/// One event handed to JetStream whose ack has not been awaited yet.
pub struct PendingAppend {
    ack: PublishAckFuture,
    expected: Option<u64>,
}

impl PendingAppend {
    /// Waits for the ack: the event's stream sequence, and whether it was a
    /// duplicate of one stored before (same event id).
    pub async fn acked(self) -> Result<Appended, Error> {
        let ack = self
            .ack
            .await
            .map_err(|e| publish_error(e, self.expected))?;
        Ok(Appended {
            version: ack.sequence,
            duplicates: usize::from(ack.duplicate),
        })
    }
}

impl EventStore {
    /// Publishes one event of aggregate `id` without waiting for its ack,
    /// for a single writer that pipelines: events sent one after the other
    /// on this connection are stored in that order. `expected` guards like
    /// [`EventStore::append`]'s; a writer that does not know the version
    /// yet (its previous event is still in flight) passes `Any`.
    pub async fn send<E: Family>(
        &self,
        id: E::Id,
        expected: ExpectedVersion,
        event: &Envelope<E>,
    ) -> Result<PendingAppend, Error> {
        let expected = match expected {
            ExpectedVersion::Any => None,
            ExpectedVersion::Exact(v) => Some(v),
        };
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, event.meta.id.to_string().as_str());
        if let Some(seq) = expected {
            headers.insert(
                NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                seq.to_string().as_str(),
            );
        }
        let ack = self
            .jetstream()
            .publish_with_headers(E::subject(id), headers, event.to_json().into())
            .await
            .map_err(|e| publish_error(e, expected))?;
        Ok(PendingAppend { ack, expected })
    }
}

fn publish_error(e: PublishError, expected: Option<u64>) -> Error {
    match e.kind() {
        PublishErrorKind::WrongLastSequence => Error::Conflict {
            expected: expected.unwrap_or(0),
            actual: actual_sequence(&e.to_string()).unwrap_or(0),
        },
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::StreamNotFound
        | PublishErrorKind::MaxAckPending => Error::Unavailable(e.to_string()),
        _ => Error::jetstream(e),
    }
}

/// JetStream says `wrong last sequence: <n>`; `n` is the aggregate's version.
fn actual_sequence(message: &str) -> Option<u64> {
    const MARK: &str = "wrong last sequence: ";
    let rest = &message[message.rfind(MARK)? + MARK.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::actual_sequence;

    #[test]
    fn reads_the_actual_sequence_out_of_the_server_message() {
        assert_eq!(
            actual_sequence(
                "wrong last sequence: jetstream error: wrong last sequence: 17 (code 400, error code 10071)"
            ),
            Some(17)
        );
        assert_eq!(actual_sequence("something else"), None);
    }
}
