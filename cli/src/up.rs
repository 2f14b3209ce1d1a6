//! `parlor up`: the whole stack on one machine. nats-server as a child with
//! its store in the data directory, mongo-memory unless `MONGODB_URI` is
//! set, the simulator unless `ELEVENLABS_API_KEY` is set, the four
//! services, and a demo user with credits. Ctrl-C stops everything.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use elevenlabs::{ApiKey, Endpoints, WebhookSecret};
use elevenlabs_sim::{SimConfig, Simulator, WebhookConfig};
use events::command::{Balance, GrantCredits, subject};
use events::{Credits, EventId, UserId};
use gateway::{JwtSecret, Role};
use mongo_memory::MongoMemory;
use parlor::stack::{Stack, StackConfig};
use serde::{Deserialize, Serialize};

use parlor::nats_child::NatsChild;

/// Credits the demo user starts with (about 25 minutes at 400 per minute).
const DEMO_CREDITS: i64 = 10_000;
const DEMO_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
const LEDGER_WAIT: Duration = Duration::from_secs(15);

/// `parlor up`'s configuration, from the environment (see the README).
pub struct UpConfig {
    data_dir: PathBuf,
    http_addr: String,
    nats_url: Option<String>,
    nats_port: String,
    mongodb_uri: Option<String>,
    elevenlabs_api_key: Option<String>,
    elevenlabs_base_url: Option<String>,
    elevenlabs_agent_id: Option<String>,
}

impl UpConfig {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            data_dir: data_dir(),
            http_addr: var("PARLOR_HTTP_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            nats_url: var("NATS_URL"),
            nats_port: var("PARLOR_NATS_PORT").unwrap_or_else(|| "4222".to_owned()),
            mongodb_uri: var("MONGODB_URI"),
            elevenlabs_api_key: var("ELEVENLABS_API_KEY"),
            elevenlabs_base_url: var("ELEVENLABS_BASE_URL"),
            elevenlabs_agent_id: var("ELEVENLABS_AGENT_ID"),
        }
    }
}

/// `PARLOR_DATA_DIR`, default `.parlor`.
pub fn data_dir() -> PathBuf {
    std::env::var("PARLOR_DATA_DIR")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| ".parlor".to_owned())
        .into()
}

/// What `parlor demo` needs to reach the running stack; written by `up`.
#[derive(Serialize, Deserialize)]
pub struct DemoInfo {
    pub gateway_url: String,
    pub nats_url: String,
    pub mongodb_uri: String,
    pub agent_id: String,
    pub user_id: UserId,
    pub token: String,
}

pub async fn run(config: UpConfig) -> anyhow::Result<()> {
    let http_addr: SocketAddr = config.http_addr.parse().with_context(|| {
        format!(
            "PARLOR_HTTP_ADDR `{}` is not an address like 127.0.0.1:8080",
            config.http_addr
        )
    })?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating PARLOR_DATA_DIR {}", config.data_dir.display()))?;

    let nats = match &config.nats_url {
        Some(_) => None,
        None => {
            let port = config.nats_port.parse().with_context(|| {
                format!(
                    "PARLOR_NATS_PORT `{}` is not a port number",
                    config.nats_port
                )
            })?;
            Some(NatsChild::start(&config.data_dir.join("nats"), port).await?)
        }
    };
    let nats_url = config
        .nats_url
        .clone()
        .or_else(|| nats.as_ref().map(NatsChild::url))
        .unwrap_or_default();

    let mongo = match &config.mongodb_uri {
        Some(_) => None,
        None => Some(
            MongoMemory::start()
                .await
                .context("starting mongo-memory")?,
        ),
    };
    let mongodb_uri = config
        .mongodb_uri
        .clone()
        .or_else(|| mongo.as_ref().map(MongoMemory::uri))
        .unwrap_or_default();

    let mut webhook_secret = gateway::config::webhook_secret_from_env();
    let (sim, endpoints, api_key, agent_id) = match &config.elevenlabs_api_key {
        Some(key) => {
            let endpoints = match &config.elevenlabs_base_url {
                Some(base) => Endpoints::from_http_base(base)?,
                None => Endpoints::default(),
            };
            let Some(agent) = config.elevenlabs_agent_id.clone() else {
                bail!("ELEVENLABS_AGENT_ID must name your agent when ELEVENLABS_API_KEY is set");
            };
            (None, endpoints, ApiKey::new(key.clone()), agent)
        }
        None => {
            // The simulator signs its post-call webhooks to the gateway with
            // the secret the gateway checks them with.
            let secret = webhook_secret
                .get_or_insert_with(|| WebhookSecret::new(random_secret()))
                .expose()
                .to_owned();
            let url = format!("http://{http_addr}/webhooks/elevenlabs");
            let sim_config = SimConfig::default().with_webhook(WebhookConfig::new(url, secret));
            let sim = Simulator::start(sim_config)
                .await
                .context("starting the ElevenLabs simulator")?;
            let endpoints = Endpoints::from_http_base(&sim.http_base_url())?;
            let (key, agent) = (
                ApiKey::new(sim.api_key()),
                sim.default_agent_id().to_owned(),
            );
            (Some(sim), endpoints, key, agent)
        }
    };

    let jwt_secret = JwtSecret::from_env_or_random()?;
    let mut stack = Stack::start(StackConfig {
        http_addr,
        nats_url: nats_url.clone(),
        mongodb_uri: mongodb_uri.clone(),
        mongodb_database: "parlor".to_owned(),
        elevenlabs: endpoints,
        elevenlabs_api_key: api_key,
        jwt_secret: jwt_secret.clone(),
        session_instance: "session-1".to_owned(),
        run_session: true,
        ledger_pricing: None,
        webhook_secret,
        chat: gateway::config::chat_from_env()?,
    })
    .await?;
    let gateway_url = format!("http://{}", stack.gateway_addr());

    let outcome = async {
        let user_id = UserId::new();
        let balance = grant_demo_credits(&nats_url, user_id).await?;
        let demo = DemoInfo {
            gateway_url: gateway_url.clone(),
            nats_url: nats_url.clone(),
            mongodb_uri: mongodb_uri.clone(),
            agent_id: agent_id.clone(),
            user_id,
            token: gateway::issue_token(&jwt_secret, user_id, Role::User, DEMO_TOKEN_TTL),
        };
        let demo_path = config.data_dir.join("demo.json");
        std::fs::write(&demo_path, serde_json::to_vec_pretty(&demo)?)
            .with_context(|| format!("writing {}", demo_path.display()))?;
        let admin_token =
            gateway::issue_token(&jwt_secret, UserId::new(), Role::Admin, DEMO_TOKEN_TTL);
        announce(&demo, sim.as_ref(), balance, &admin_token);
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("stopping");
                Ok(())
            }
            e = stack.failed() => Err(e),
        }
    }
    .await;

    let stopped = stack.stop().await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    if let Some(mongo) = mongo {
        mongo.shutdown().await;
    }
    if let Some(nats) = nats {
        nats.stop().await;
    }
    outcome.and(stopped)
}

/// A fresh webhook secret for the simulator and the gateway to share.
fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Grants the demo user's credits, waiting for the ledger to come up.
async fn grant_demo_credits(nats_url: &str, user_id: UserId) -> anyhow::Result<Balance> {
    let client = async_nats::connect(eventstore::server_addrs(nats_url)?)
        .await
        .context("connecting to NATS")?;
    let grant = GrantCredits {
        grant_id: EventId::new(),
        user_id,
        credits: Credits::new(DEMO_CREDITS),
        reason: Some("parlor up demo user".to_owned()),
    };
    // The grant id makes asking again harmless while the ledger starts.
    bus::request(&client, subject::LEDGER_GRANT, &grant, LEDGER_WAIT)
        .await
        .context("the ledger did not grant the demo credits")
}

#[allow(clippy::print_stdout)]
fn announce(demo: &DemoInfo, sim: Option<&Simulator>, balance: Balance, admin_token: &str) {
    println!("gateway:    {}", demo.gateway_url);
    println!("dashboard:  {}/dashboard/", demo.gateway_url);
    println!("nats:       {}", demo.nats_url);
    println!("mongodb:    {}", demo.mongodb_uri);
    match sim {
        Some(sim) => println!("elevenlabs: simulator at {}", sim.http_base_url()),
        None => println!("elevenlabs: the real service (ELEVENLABS_API_KEY)"),
    }
    println!("agent id:   {}", demo.agent_id);
    println!(
        "demo user:  {} ({} credits)",
        demo.user_id,
        balance.available.get()
    );
    println!("demo token: {}", demo.token);
    println!("admin token: {admin_token}");
    println!("parlor is ready: `parlor demo` runs a conversation; Ctrl-C stops everything");
}
