//! Building and running the gateway's HTTP server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::serve::ListenerExt;
use events::command::live::RELAY_BUFFER;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Authenticator, HttpRate, Redemptions, TokenKeys};
use crate::config::{Config, ConfigError};
use crate::elevenlabs_ids::ElevenLabsIds;
use crate::kv::{BucketError, Buckets};
use crate::live::Live;
use crate::live::limit::LiveCalls;
use crate::reads::Reads;
use crate::routes;
use crate::routes::money::idempotency::IdempotencyKeys;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to NATS at {url}: {message}")]
    Nats { url: String, message: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Bucket(#[from] BucketError),
    #[error("serving HTTP: {0}")]
    Serve(#[source] std::io::Error),
}

/// A gateway bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    live: Live,
}

impl Application {
    /// Connects to NATS and binds the HTTP address.
    pub async fn build(config: Config) -> Result<Self, Error> {
        crate::metrics::handle();
        // Live subscriptions buffer at most RELAY_BUFFER frames (see `live::relay`).
        let nats = async_nats::ConnectOptions::new()
            .subscription_capacity(RELAY_BUFFER)
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::SlowConsumer(subscription) => tracing::warn!(
                        subscription,
                        "live frames dropped: a client reads slower than its session sends"
                    ),
                    other => tracing::info!(event = %other, "nats connection"),
                }
            })
            .connect(
                eventstore::server_addrs(&config.nats_url).map_err(|e| Error::Nats {
                    url: config.nats_url.clone(),
                    message: e.to_string(),
                })?,
            )
            .await
            .map_err(|e| Error::Nats {
                url: config.nats_url.clone(),
                message: e.to_string(),
            })?;
        let listener = TcpListener::bind(config.http_addr)
            .await
            .map_err(|source| Error::Bind {
                addr: config.http_addr,
                source,
            })?;
        let buckets = Buckets {
            js: async_nats::jetstream::new(nats.clone()),
            replicas: config.kv_replicas,
        };
        let calls =
            LiveCalls::open(&buckets, config.live_calls_per_user, config.live_call_lease).await?;
        let redemptions = Redemptions::open(&buckets).await?;
        let idempotency = IdempotencyKeys::open(&buckets).await?;
        let elevenlabs_ids = ElevenLabsIds::open(&buckets).await?;
        let live = Live {
            nats,
            calls,
            elevenlabs_ids,
            start_timeout: config.session_start_timeout,
            bounds: config.bounds,
            heartbeat_timeout: config.heartbeat_timeout,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
        };
        // The driver connects lazily: a gateway starts without MongoDB and
        // answers reads with 503 until it is reachable (see `/readyz`).
        let mongo = mongodb::Client::with_uri_str(&config.mongodb_uri)
            .await
            .map_err(|source| ConfigError::MongoUri {
                uri: config.mongodb_uri.clone(),
                source,
            })?;
        let state = AppState {
            auth: Arc::new(Authenticator::new(
                TokenKeys {
                    secret: config.jwt_secret,
                    public: config.jwt_public_keys,
                    nextauth: config.nextauth,
                },
                redemptions,
                HttpRate::new(config.http_rate),
            )),
            live: live.clone(),
            reads: Reads::new(mongo.database(&config.mongodb_database)),
            nats: live.nats.clone(),
            chat: config.chat,
            idempotency,
            webhook_secret: config.webhook_secret.map(Arc::new),
        };
        Ok(Self {
            listener,
            router: routes::router(state),
            live,
        })
    }

    /// The bound address (useful when the configured port was 0).
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` completes, then closes live calls with 1001
    /// (telling their sessions), finishes open requests and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        tracing::info!(addr = %self.addr(), "gateway listening");
        let live = self.live;
        let cancel = live.shutdown.clone();
        // Nagle off: a relayed frame leaves at once instead of waiting for
        // the peer's delayed ack (about 40 ms a turn otherwise).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "could not turn Nagle off");
            }
        });
        // The peer's address keys the rate limit of unauthenticated callers.
        let router = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                cancel.cancel();
            })
            .await;
        live.shutdown.cancel();
        live.tracker.close();
        live.tracker.wait().await;
        if let Err(error) = live.nats.flush().await {
            tracing::warn!(%error, "could not flush the last live frames");
        }
        served.map_err(Error::Serve)
    }
}
