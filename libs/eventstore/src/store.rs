//! `EventStore`: the connection every other module hangs off.

use async_nats::ServerAddr;
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
    /// Connects to NATS at `url` (e.g. `nats://127.0.0.1:4222`), or to any
    /// of a cluster's servers given comma-separated, as `NATS_URL` may be.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let servers =
            server_addrs(url).map_err(|e| Error::Unavailable(format!("NATS_URL `{url}`: {e}")))?;
        let client = async_nats::connect(servers)
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

/// The servers of a comma-separated NATS URL list (`nats://a:4222,nats://b:4222`);
/// the client picks among them and moves to another when one goes away.
pub fn server_addrs(urls: &str) -> Result<Vec<ServerAddr>, std::io::Error> {
    urls.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::parse::<ServerAddr>)
        .collect()
}

pub(crate) fn decode<E: DomainEvent>(sequence: u64, payload: &[u8]) -> Result<Stored<E>, Error> {
    Ok(Stored {
        sequence,
        envelope: Envelope::from_json(payload)?,
    })
}
