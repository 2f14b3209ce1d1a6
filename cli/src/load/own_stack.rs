//! A throwaway stack for one run: nats-server as a child on a free port
//! with a temporary store, mongo-memory, the simulator in fast mode and the
//! four services in this process, the session service sized for the run.

use anyhow::Context;
use elevenlabs::{ApiKey, Endpoints};
use elevenlabs_sim::{SimConfig, Simulator};
use gateway::JwtSecret;
use mongo_memory::MongoMemory;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Target;
use crate::nats_child::NatsChild;
use crate::stack::{Stack, StackConfig, session_config};

/// Everything a run needs, stopped together by [`OwnStack::stop`].
pub struct OwnStack {
    pub target: Target,
    stack: Stack,
    stop_session: watch::Sender<bool>,
    session: JoinHandle<Result<(), session::Error>>,
    sim: Simulator,
    mongo: MongoMemory,
    nats: NatsChild,
    _dir: tempfile::TempDir,
}

impl OwnStack {
    /// A stack whose session service takes `live_calls` calls at once (at
    /// least its default).
    pub async fn start(live_calls: usize) -> anyhow::Result<Self> {
        let (dir, nats) = own_nats().await?;
        let mongo = MongoMemory::start()
            .await
            .context("starting mongo-memory")?;
        let sim = Simulator::start(SimConfig::fast())
            .await
            .context("starting the ElevenLabs simulator")?;
        let jwt_secret = JwtSecret::random();
        let simulator = Endpoints::from_http_base(&sim.http_base_url())?;
        let config = StackConfig {
            http_addr: "127.0.0.1:0".parse()?,
            nats_url: nats.url(),
            mongodb_uri: mongo.uri(),
            mongodb_database: "parlor".to_owned(),
            elevenlabs: simulator.clone(),
            elevenlabs_api_key: ApiKey::new(sim.api_key()),
            jwt_secret: jwt_secret.clone(),
            session_instance: "session-load".to_owned(),
            run_session: false,
            ledger_pricing: None,
        };
        let stack = Stack::start(config.clone()).await?;
        let mut session_config = session_config(&config);
        session_config.max_live = session_config.max_live.max(live_calls);
        let (stop_session, mut session_stopped) = watch::channel(false);
        let session = tokio::spawn(session::run(session_config, async move {
            let _ = session_stopped.wait_for(|stop| *stop).await;
        }));
        let target = Target {
            gateway: Endpoints::from_http_base(&format!("http://{}", stack.gateway_addr()))?,
            simulator,
            simulator_key: ApiKey::new(sim.api_key()),
            agent_id: sim.default_agent_id().to_owned(),
            jwt_secret,
            nats: async_nats::connect(nats.url()).await?,
            conversations: mongodb::Client::with_uri_str(mongo.uri())
                .await?
                .database("parlor")
                .collection("conversations"),
        };
        Ok(Self {
            target,
            stack,
            stop_session,
            session,
            sim,
            mongo,
            nats,
            _dir: dir,
        })
    }

    /// Stops the services, then what they ran against.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop_session.send(true);
        let session = self.session.await;
        let stopped = self.stack.stop().await;
        self.sim.shutdown().await;
        self.mongo.shutdown().await;
        self.nats.stop().await;
        session.context("the session service panicked")??;
        stopped
    }
}

/// nats-server on a free loopback port, its store in a temporary directory
/// that lives as long as the returned guard.
pub async fn own_nats() -> anyhow::Result<(tempfile::TempDir, NatsChild)> {
    let dir = tempfile::tempdir().context("a temporary directory for nats-server")?;
    let nats = NatsChild::start(dir.path(), free_port()?).await?;
    Ok((dir, nats))
}

/// A loopback port free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
