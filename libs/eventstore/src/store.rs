//! `EventStore`: the connection every other module hangs off.

use async_nats::jetstream::{self, Context};
use events::{DomainEvent, Envelope};

use crate::error::Error;

/// A handle on the event log; cheap to clone, share one per process.
#[derive(Clone)]
pub struct EventStore {
    client: async_nats::Client,
    js: Context,
}

/// An event as stored: its stream sequence beside the envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored<E> {
    pub sequence: u64,
    pub envelope: Envelope<E>,
}

impl EventStore {
    /// Connects to NATS at `url` (e.g. `nats://127.0.0.1:4222`).
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let client = async_nats::connect(url)
            .await
            .map_err(|e| Error::Unavailable(format!("connecting to NATS at {url}: {e}")))?;
        Ok(Self::new(client))
    }

    pub fn new(client: async_nats::Client) -> Self {
        let js = jetstream::new(client.clone());
        Self { client, js }
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub(crate) fn jetstream(&self) -> &Context {
        &self.js
    }
}

pub(crate) fn decode<E: DomainEvent>(sequence: u64, payload: &[u8]) -> Result<Stored<E>, Error> {
    Ok(Stored {
        sequence,
        envelope: Envelope::from_json(payload)?,
    })
}
