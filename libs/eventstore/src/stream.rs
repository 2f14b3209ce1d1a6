//! The two streams of DESIGN §2 and their idempotent creation.

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::stream::{Config, StorageType};

use crate::error::Error;
use crate::store::EventStore;

/// Retries of an append within this window are deduplicated by event id.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Tries at creating or updating one stream; only a concurrent creation
/// makes the first fail.
const ENSURE_ATTEMPTS: u32 = 3;

/// The environment variable naming how many copies of each stream a NATS
/// cluster keeps.
pub const REPLICAS_VAR: &str = "PARLOR_STREAM_REPLICAS";

/// Copies of each stream the NATS cluster keeps: 1 on a single server, 3
/// (or 5) on a cluster, where a stream then outlives the loss of a minority
/// of its nodes. Every copy of every service must be given the same count,
/// or each start would rescale the streams to its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replicas(usize);

/// JetStream keeps at most this many copies of a stream.
const MAX_REPLICAS: usize = 5;

impl Replicas {
    pub const ONE: Self = Self(1);

    /// `count` copies; JetStream allows 1 to 5.
    pub fn new(count: usize) -> Result<Self, Error> {
        if (1..=MAX_REPLICAS).contains(&count) {
            Ok(Self(count))
        } else {
            Err(Error::Replicas(count.to_string()))
        }
    }

    /// `PARLOR_STREAM_REPLICAS`, 1 when unset or empty.
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var(REPLICAS_VAR) {
            Ok(value) if !value.trim().is_empty() => Self::parse(&value),
            _ => Ok(Self::ONE),
        }
    }

    pub fn parse(value: &str) -> Result<Self, Error> {
        let count = value
            .trim()
            .parse()
            .map_err(|_| Error::Replicas(value.to_owned()))?;
        Self::new(count)
    }

    pub fn count(self) -> usize {
        self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamName {
    /// `conv.<conversation_id>`
    Conversations,
    /// `ledger.<account_id>`
    Ledger,
}

impl StreamName {
    pub const ALL: [StreamName; 2] = [Self::Conversations, Self::Ledger];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conversations => "CONVERSATIONS",
            Self::Ledger => "LEDGER",
        }
    }

    /// The first token of every subject in this stream.
    pub fn subject_prefix(self) -> &'static str {
        match self {
            Self::Conversations => "conv",
            Self::Ledger => "ledger",
        }
    }

    fn config(self, replicas: Replicas) -> Config {
        Config {
            name: self.as_str().to_owned(),
            subjects: vec![format!("{}.>", self.subject_prefix())],
            storage: StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: replicas.count(),
            ..Default::default()
        }
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventStore {
    /// Creates both streams, or brings an existing one to this configuration,
    /// with the replicas `PARLOR_STREAM_REPLICAS` names (1 when unset).
    /// Safe to call from every service at start, concurrently: when two
    /// create the same stream at once the loser's create is refused (the
    /// subjects now overlap), and its retry finds the stream and updates it.
    pub async fn ensure_streams(&self) -> Result<(), Error> {
        self.ensure_streams_with(Replicas::from_env()?).await
    }

    /// [`EventStore::ensure_streams`] with a given replica count.
    pub async fn ensure_streams_with(&self, replicas: Replicas) -> Result<(), Error> {
        for name in StreamName::ALL {
            let mut attempt = 1;
            loop {
                match self
                    .jetstream()
                    .create_or_update_stream(name.config(replicas))
                    .await
                {
                    Ok(_) => break,
                    Err(e) if attempt < ENSURE_ATTEMPTS => {
                        tracing::debug!(stream = %name, error = %e, attempt, "ensuring stream raced; retrying");
                        attempt += 1;
                    }
                    Err(e) => {
                        return Err(Error::Unavailable(format!("ensuring stream {name}: {e}")));
                    }
                }
            }
        }
        Ok(())
    }
}
