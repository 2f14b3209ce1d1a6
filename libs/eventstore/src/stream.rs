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

    fn config(self) -> Config {
        Config {
            name: self.as_str().to_owned(),
            subjects: vec![format!("{}.>", self.subject_prefix())],
            storage: StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
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
    /// Creates both streams, or brings an existing one to this configuration.
    /// Safe to call from every service at start, concurrently: when two
    /// create the same stream at once the loser's create is refused (the
    /// subjects now overlap), and its retry finds the stream and updates it.
    pub async fn ensure_streams(&self) -> Result<(), Error> {
        for name in StreamName::ALL {
            let mut attempt = 1;
            loop {
                match self
                    .jetstream()
                    .create_or_update_stream(name.config())
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
