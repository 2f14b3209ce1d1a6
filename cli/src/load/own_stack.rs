//! A throwaway stack for one run: nats-server as a child on a free port
//! with a temporary store, mongo-memory, the simulator in fast mode and the
//! four services in this process.

use anyhow::Context;
use elevenlabs::{ApiKey, Endpoints};
use elevenlabs_sim::{SimConfig, Simulator};
use gateway::JwtSecret;
use mongo_memory::MongoMemory;

use super::Target;
use crate::nats_child::NatsChild;
use crate::stack::{Stack, StackConfig};

/// Everything a run needs, stopped together by [`OwnStack::stop`].
pub struct OwnStack {
    pub target: Target,
    stack: Stack,
    sim: Simulator,
    mongo: MongoMemory,
    nats: NatsChild,
    _dir: tempfile::TempDir,
}

impl OwnStack {
    pub async fn start() -> anyhow::Result<Self> {
        let (dir, nats) = own_nats().await?;
        let mongo = MongoMemory::start()
            .await
            .context("starting mongo-memory")?;
        let sim = Simulator::start(SimConfig::fast())
            .await
            .context("starting the ElevenLabs simulator")?;
        let jwt_secret = JwtSecret::random();
        let simulator = Endpoints::from_http_base(&sim.http_base_url())?;
        let stack = Stack::start(StackConfig {
            http_addr: "127.0.0.1:0".parse()?,
            nats_url: nats.url(),
            mongodb_uri: mongo.uri(),
            mongodb_database: "parlor".to_owned(),
            elevenlabs: simulator.clone(),
            elevenlabs_api_key: ApiKey::new(sim.api_key()),
            jwt_secret: jwt_secret.clone(),
            session_instance: "session-load".to_owned(),
            run_session: true,
            ledger_pricing: None,
        })
        .await?;
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
            sim,
            mongo,
            nats,
            _dir: dir,
        })
    }

    /// Stops the services, then what they ran against.
    pub async fn stop(self) -> anyhow::Result<()> {
        let stopped = self.stack.stop().await;
        self.sim.shutdown().await;
        self.mongo.shutdown().await;
        self.nats.stop().await;
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
