//! The four services in one process, against given NATS, MongoDB and
//! ElevenLabs endpoints, stopped together.

use std::net::SocketAddr;

use anyhow::Context;
use elevenlabs::{ApiKey, Endpoints, WebhookSecret};
use gateway::auth::JwtSecret;
use gateway::chat::ChatConfig;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Where the services find their dependencies.
#[derive(Clone, Debug)]
pub struct StackConfig {
    pub http_addr: SocketAddr,
    pub nats_url: String,
    pub mongodb_uri: String,
    pub mongodb_database: String,
    pub elevenlabs: Endpoints,
    pub elevenlabs_api_key: ApiKey,
    pub jwt_secret: JwtSecret,
    pub session_instance: String,
    /// False when the session service runs elsewhere (another process, or
    /// a test's own runtime that it can kill).
    pub run_session: bool,
    /// The ledger's pricing; `None`: from the environment (see the README).
    pub ledger_pricing: Option<ledger::Pricing>,
    /// The gateway's check of ElevenLabs' webhooks; `None`: refused.
    pub webhook_secret: Option<WebhookSecret>,
    /// The text chat's idle and reply timeouts.
    pub chat: ChatConfig,
}

/// A running stack. Dropping it without [`Stack::stop`] aborts the services.
pub struct Stack {
    gateway_addr: SocketAddr,
    stop: watch::Sender<bool>,
    services: JoinSet<(&'static str, anyhow::Result<()>)>,
}

impl Stack {
    /// Starts gateway, session, ledger and projector; returns once the
    /// gateway is bound.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        // Create the streams once here rather than four services racing to.
        eventstore::EventStore::connect(&config.nats_url)
            .await?
            .ensure_streams()
            .await
            .context("creating the event log's streams")?;
        let (stop, stopped) = watch::channel(false);
        let mut services = JoinSet::new();

        let mut ledger_config = ledger::Config::from_env()?;
        ledger_config.nats_url = config.nats_url.clone();
        let pricing = match config.ledger_pricing.clone() {
            Some(pricing) => pricing,
            None => ledger::Pricing::from_env()?,
        };
        let shutdown = until(&stopped);
        services.spawn(named("ledger", async move {
            let ledger = ledger::Ledger::start(&ledger_config, pricing).await?;
            Ok(ledger.run(shutdown).await?)
        }));

        let projector_config = projector::Config {
            nats_url: config.nats_url.clone(),
            mongodb_uri: config.mongodb_uri.clone(),
            mongodb_database: config.mongodb_database.clone(),
        };
        let shutdown = until(&stopped);
        services.spawn(named("projector", async move {
            Ok(projector::run(projector_config, shutdown).await?)
        }));

        if config.run_session {
            let session_config = session_config(&config);
            let shutdown = until(&stopped);
            services.spawn(named("session", async move {
                Ok(session::run(session_config, shutdown).await?)
            }));
        }
        let mut gateway_config = gateway::Config::new(
            config.http_addr,
            config.nats_url.clone(),
            config.jwt_secret.clone(),
        );
        gateway_config.mongodb_uri = config.mongodb_uri.clone();
        gateway_config.mongodb_database = config.mongodb_database.clone();
        gateway_config.webhook_secret = config.webhook_secret.clone();
        gateway_config.chat = config.chat;
        let gateway = gateway::Application::build(gateway_config)
            .await
            .context("starting the gateway")?;
        let gateway_addr = gateway.addr();
        let shutdown = until(&stopped);
        services.spawn(named("gateway", async move {
            Ok(gateway.run_until_stopped(shutdown).await?)
        }));

        Ok(Self {
            gateway_addr,
            stop,
            services,
        })
    }

    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway_addr
    }

    /// Completes when a service stops on its own (which is always an
    /// error while the stack should be running), with why.
    pub async fn failed(&mut self) -> anyhow::Error {
        match self.services.join_next().await {
            Some(done) => exit_error(done)
                .unwrap_or_else(|| anyhow::anyhow!("a service stopped unexpectedly")),
            None => anyhow::anyhow!("no service is running"),
        }
    }

    /// Asks every service to stop and waits for them; the first error wins.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        // Receivers may already be gone; the join below still ends them.
        let _ = self.stop.send(true);
        let mut first_error = None;
        while let Some(done) = self.services.join_next().await {
            if first_error.is_none() {
                first_error = exit_error(done);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The session service's configuration within this stack.
pub fn session_config(config: &StackConfig) -> session::Config {
    let mut session = session::Config::new(
        config.nats_url.clone(),
        config.elevenlabs.clone(),
        config.elevenlabs_api_key.clone(),
    );
    session.instance = config.session_instance.clone();
    session
}

/// Completes once `stop` has been sent (or its sender dropped).
fn until(stopped: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stopped = stopped.clone();
    async move {
        // An error means the sender is gone: stop as well.
        let _ = stopped.wait_for(|s| *s).await;
    }
}

async fn named(
    name: &'static str,
    service: impl Future<Output = anyhow::Result<()>>,
) -> (&'static str, anyhow::Result<()>) {
    (name, service.await)
}

fn exit_error(
    done: Result<(&'static str, anyhow::Result<()>), tokio::task::JoinError>,
) -> Option<anyhow::Error> {
    match done {
        Ok((_, Ok(()))) => None,
        Ok((name, Err(e))) => Some(e.context(format!("the {name} service stopped"))),
        Err(e) => Some(anyhow::Error::new(e).context("a service panicked")),
    }
}
