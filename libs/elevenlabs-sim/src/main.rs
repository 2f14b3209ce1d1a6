//! `elevenlabs-sim`: runs the ElevenLabs simulator on a local port until
//! Ctrl-C, printing one ready line with its URL and the default agent's id.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use elevenlabs_sim::config::DEFAULT_API_KEY;
use elevenlabs_sim::{AgentConfig, SimConfig, Simulator, Tier, TimingConfig, WebhookConfig};

/// Offline simulator of the ElevenLabs Agents WebSocket, REST API and webhooks.
#[derive(Debug, Parser)]
#[command(name = "elevenlabs-sim", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// JSON file with an array of agents (the first is the default agent);
    /// see `agents.example.json` next to this crate's Cargo.toml.
    #[arg(long)]
    agents: Option<PathBuf>,
    /// The `xi-api-key` to accept.
    #[arg(long, env = "ELEVENLABS_SIM_API_KEY")]
    api_key: Option<String>,
    /// Where post-call webhooks are POSTed.
    #[arg(long, requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// HMAC secret for `ElevenLabs-Signature`.
    #[arg(long, requires = "webhook_url")]
    webhook_secret: Option<String>,
    /// Test timing: no pacing, millisecond latencies.
    #[arg(long)]
    fast: bool,
    /// Seed for latency jitter.
    #[arg(long)]
    seed: Option<u64>,
    /// Subscription tier that prices calls.
    #[arg(long, value_parser = parse_tier, default_value = "business")]
    tier: Tier,
}

fn parse_tier(s: &str) -> Result<Tier, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| "one of free, starter, creator, pro, scale, business".to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = SimConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], args.port)),
        tier: args.tier,
        ..SimConfig::default()
    };
    if args.fast {
        config.timing = TimingConfig::fast();
    }
    if let Some(seed) = args.seed {
        config.timing.seed = seed;
    }
    if let Some(key) = &args.api_key {
        config.api_key = key.clone();
    }
    if let Some(path) = &args.agents {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        config.agents = serde_json::from_str::<Vec<AgentConfig>>(&text)
            .map_err(|e| anyhow::anyhow!("bad agents file {}: {e}", path.display()))?;
    }
    if let (Some(url), Some(secret)) = (args.webhook_url, args.webhook_secret) {
        config.webhook = Some(WebhookConfig::new(url, secret));
    }
    let sim = Simulator::start(config).await?;
    ready_line(&sim, args.api_key.is_none());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

/// The one line scripts wait for.
#[allow(clippy::print_stdout)]
fn ready_line(sim: &Simulator, default_key: bool) {
    // A key given by the operator is not echoed; the built-in one is public.
    let key = if default_key {
        DEFAULT_API_KEY
    } else {
        "<as given>"
    };
    println!(
        "elevenlabs-sim ready url={} ws_url={} default_agent_id={} api_key={key}",
        sim.http_base_url(),
        sim.ws_base_url(),
        sim.default_agent_id(),
    );
}
