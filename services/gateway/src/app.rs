//! Building and running the gateway's HTTP server.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use eventstore::EventStore;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::routes;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    EventLog(#[from] eventstore::Error),
    #[error("serving HTTP: {0}")]
    Serve(#[source] std::io::Error),
}

/// A gateway bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects to NATS and binds the HTTP address.
    pub async fn build(config: Config) -> Result<Self, Error> {
        let store = EventStore::connect(&config.nats_url).await?;
        store.ensure_streams().await?;
        let listener = TcpListener::bind(config.http_addr)
            .await
            .map_err(|source| Error::Bind {
                addr: config.http_addr,
                source,
            })?;
        Ok(Self {
            listener,
            router: routes::router(),
        })
    }

    /// The bound address (useful when the configured port was 0).
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` completes, then finishes open requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        tracing::info!(addr = %self.addr(), "gateway listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(Error::Serve)
    }
}
