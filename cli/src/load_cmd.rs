//! `parlor load`: starts a stack of its own (nats-server child on a free
//! port with a temporary store, mongo-memory, the simulator in fast mode,
//! the four services), drives `parlor::load` against it and prints the
//! figures.

use anyhow::{Context, bail};
use clap::Args;
use elevenlabs::{ApiKey, Endpoints};
use elevenlabs_sim::{SimConfig, Simulator};
use gateway::JwtSecret;
use mongo_memory::MongoMemory;
use parlor::load::{LoadConfig, Target};
use parlor::stack::{Stack, StackConfig};

use crate::nats_child::NatsChild;

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Calls at once through the gateway, the abusive ones included.
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// Turns (user message → agent answer) per polite call.
    #[arg(long, default_value_t = 5)]
    turns: usize,
    /// Calls that flood user messages as fast as they can.
    #[arg(long, default_value_t = 0)]
    floods: usize,
    /// User messages each flooding call sends.
    #[arg(long, default_value_t = 10_000)]
    flood_messages: usize,
    /// Calls that send one frame larger than NATS can carry.
    #[arg(long, default_value_t = 0)]
    oversized: usize,
    /// Calls whose client vanishes (no close frame) right after opening.
    #[arg(long, default_value_t = 0)]
    vanish: usize,
    /// Calls whose client drops its connection halfway through its turns.
    #[arg(long, default_value_t = 0)]
    drops: usize,
}

#[allow(clippy::print_stdout)]
pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let abusive = args.floods + args.oversized + args.vanish + args.drops;
    if abusive > args.calls {
        bail!(
            "--floods, --oversized, --vanish and --drops add up to {abusive}, more than --calls {}",
            args.calls
        );
    }
    let dir = tempfile::tempdir().context("a temporary directory for nats-server")?;
    let port = testkit_free_port()?;
    let nats = NatsChild::start(dir.path(), port).await?;
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
        webhook_secret: None,
        chat: gateway::chat::ChatConfig::default(),
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
    let config = LoadConfig {
        calls: args.calls,
        turns: args.turns,
        floods: args.floods,
        oversized: args.oversized,
        vanishing: args.vanish,
        drops: args.drops,
        flood_messages: args.flood_messages,
    };
    let report = parlor::load::run(&target, &config).await;
    let stopped = stack.stop().await;
    sim.shutdown().await;
    mongo.shutdown().await;
    nats.stop().await;
    let report = report?;
    print!("{report}");
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        std::env::consts::ARCH
    );
    stopped
}

/// A loopback port free a moment ago.
fn testkit_free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
