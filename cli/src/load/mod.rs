//! `parlor load`'s engine: N simulated users at once through the gateway,
//! each with its own user, token and granted credits, for T turns; some of
//! them abusive (floods, oversized frames, clients that vanish or drop
//! mid-call). The same polite clients first talk straight to the simulator,
//! so the relay's added latency is measured against a baseline of the same
//! run. It reports latency, events per second, projector lag and the
//! ledger's trial balance; it asserts nothing itself (tests do).

mod client;
mod log_reads;
mod own_stack;
mod report;

use std::time::{Duration, Instant};

use anyhow::Context;
use elevenlabs::{ApiKey, Endpoints};
use events::command::{Balance, GrantCredits, subject};
use events::{Credits, EventId, UserId};
use eventstore::EventStore;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use gateway::{JwtSecret, Role};
use mongodb::bson::{Document, doc};
use sketches_ddsketch::DDSketch;

pub use client::{Behaviour, Ws, hold, open};
pub use log_reads::trial_balance;
pub use own_stack::{OwnStack, free_port, own_nats};
pub use report::{LatencySummary, Report};

use client::Outcome;

/// Credits each simulated user is granted: enough for a long call.
const USER_CREDITS: i64 = 20_000;
/// How long the read models may take to show the run before the lag is
/// reported as unknown.
const PROJECTOR_WAIT: Duration = Duration::from_secs(120);
const LEDGER_WAIT: Duration = Duration::from_secs(15);

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Calls at once through the gateway (abusive ones included).
    pub calls: usize,
    /// Turns (user message → agent answer) per polite call.
    pub turns: usize,
    /// How many of the calls flood, send an oversized frame, vanish
    /// before their first turn, or drop their connection mid-call.
    pub floods: usize,
    pub oversized: usize,
    pub vanishing: usize,
    pub drops: usize,
    /// User messages a flooding call sends as fast as it can.
    pub flood_messages: usize,
}

/// Where the stack under load answers.
pub struct Target {
    pub gateway: Endpoints,
    pub simulator: Endpoints,
    pub simulator_key: ApiKey,
    pub agent_id: String,
    pub jwt_secret: JwtSecret,
    pub nats: async_nats::Client,
    pub conversations: mongodb::Collection<Document>,
}

/// Runs the load and measures it.
pub async fn run(target: &Target, config: &LoadConfig) -> anyhow::Result<Report> {
    let polite = config
        .calls
        .saturating_sub(config.floods + config.oversized + config.vanishing + config.drops);
    let direct = measure_direct(target, polite, config.turns).await?;

    let store = EventStore::new(target.nats.clone());
    let events_before = log_reads::stream_messages(&store).await?;
    let mut behaviours = Vec::with_capacity(config.calls);
    behaviours.extend(std::iter::repeat_n(
        Behaviour::Flood(config.flood_messages),
        config.floods,
    ));
    behaviours.extend(std::iter::repeat_n(Behaviour::Oversized, config.oversized));
    behaviours.extend(std::iter::repeat_n(Behaviour::Vanish, config.vanishing));
    behaviours.extend(std::iter::repeat_n(
        Behaviour::DropMidCall(config.turns),
        config.drops,
    ));
    behaviours.extend(std::iter::repeat_n(Behaviour::Polite(config.turns), polite));

    let started = Instant::now();
    let mut calls: FuturesUnordered<_> = FuturesUnordered::new();
    for behaviour in behaviours {
        let user = grant(&target.nats, UserId::new()).await?;
        let token = gateway::issue_token(
            &target.jwt_secret,
            user,
            Role::User,
            Duration::from_secs(3600),
        );
        calls.push(client::call(
            target.gateway.clone(),
            target.agent_id.clone(),
            Some(ApiKey::new(token)),
            behaviour,
        ));
    }
    let progress = indicatif::ProgressBar::new(config.calls as u64).with_message("calls");
    let mut relayed = DDSketch::default();
    let mut outcomes: Vec<Outcome> = Vec::new();
    while let Some(outcome) = calls.next().await {
        progress.inc(1);
        for latency in &outcome.latencies_ms {
            relayed.add(*latency);
        }
        outcomes.push(outcome);
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed();
    let events = log_reads::stream_messages(&store)
        .await?
        .saturating_sub(events_before);
    let ended_at = Instant::now();
    let projector_lag = projector_lag(target, &outcomes, ended_at).await?;
    let trial_balance = log_reads::trial_balance(&store).await?;
    Ok(Report::new(
        config.clone(),
        &direct,
        &relayed,
        outcomes,
        events,
        elapsed,
        projector_lag,
        trial_balance,
    ))
}

/// The same polite clients, straight to the simulator.
async fn measure_direct(target: &Target, calls: usize, turns: usize) -> anyhow::Result<DDSketch> {
    let mut direct: FuturesUnordered<_> = (0..calls)
        .map(|_| {
            client::call(
                target.simulator.clone(),
                target.agent_id.clone(),
                Some(target.simulator_key.clone()),
                Behaviour::Polite(turns),
            )
        })
        .collect();
    let mut sketch = DDSketch::default();
    while let Some(outcome) = direct.next().await {
        if let Some(error) = &outcome.error {
            anyhow::bail!("a direct call to the simulator failed: {error}");
        }
        for latency in outcome.latencies_ms {
            sketch.add(latency);
        }
    }
    Ok(sketch)
}

/// Grants `user` enough credits for a long call.
pub async fn grant(nats: &async_nats::Client, user: UserId) -> anyhow::Result<UserId> {
    let grant = GrantCredits {
        grant_id: EventId::new(),
        user_id: user,
        credits: Credits::new(USER_CREDITS),
        reason: Some("parlor load".to_owned()),
    };
    let _: Balance = bus::request(nats, subject::LEDGER_GRANT, &grant, LEDGER_WAIT)
        .await
        .context("granting a load user's credits")?;
    Ok(user)
}

/// From the end of the run until every call's document shows it is over.
async fn projector_lag(
    target: &Target,
    outcomes: &[Outcome],
    ended_at: Instant,
) -> anyhow::Result<Option<Duration>> {
    let ids: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.elevenlabs_id.as_deref())
        .collect();
    let over = doc! {
        "metadata.elevenlabs_conversation_id": {"$in": &ids},
        "status": {"$in": ["processing", "done", "failed"]},
    };
    let deadline = ended_at + PROJECTOR_WAIT;
    let mut pace = tokio::time::interval(Duration::from_millis(20));
    while Instant::now() < deadline {
        pace.tick().await;
        let shown = target.conversations.count_documents(over.clone()).await?;
        if shown >= ids.len() as u64 {
            return Ok(Some(ended_at.elapsed()));
        }
    }
    Ok(None)
}
