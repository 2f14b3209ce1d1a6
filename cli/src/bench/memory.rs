//! Memory per live call: the `gateway` and `session` binaries run as child
//! processes (so each one's RSS is its own, read from `/proc/<pid>/status`)
//! against nats-server, the simulator and a ledger in this process. A tenth
//! of the calls are opened and held first; the growth from there to all of
//! them held open, divided by the calls added, is each service's memory per
//! live call. The baseline is the goal, 64 KiB.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use elevenlabs::{ApiKey, Endpoints};
use elevenlabs_sim::{SimConfig, Simulator};
use events::{EventId, UserId};
use futures::StreamExt;
use gateway::{JwtSecret, Role};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::{Figure, Sizes};
use crate::load::{self, free_port, own_nats};

const GOAL_KIB: f64 = 64.0;
/// How long a child may take to start answering.
const READY_DEADLINE: Duration = Duration::from_secs(30);
const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// Calls being opened at once.
const OPENING: usize = 32;

pub async fn run(sizes: &Sizes, bin_dir: &Path) -> anyhow::Result<Vec<Figure>> {
    let gateway_bin = binary(bin_dir, "gateway")?;
    let session_bin = binary(bin_dir, "session")?;
    let (dir, nats) = own_nats().await?;
    let sim = Simulator::start(SimConfig::fast())
        .await
        .context("starting the ElevenLabs simulator")?;
    let measured = async {
        let store = eventstore::EventStore::connect(&nats.url()).await?;
        store.ensure_streams().await?;
        let ledger =
            ledger::Ledger::start(&ledger::Config::new(nats.url()), ledger::Pricing::default())
                .await?;
        let (stop_ledger, ledger_stopped) = watch::channel(false);
        let ledger = tokio::spawn(ledger.run(async move {
            let mut stopped = ledger_stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        // Two UUID v7s: 148 random bits, over the gateway's 32-byte minimum.
        let secret = format!("{}{}", EventId::new(), EventId::new());
        let port = free_port()?;
        let mut gateway = ServiceChild::start(
            &gateway_bin,
            dir.path(),
            &[
                ("NATS_URL", nats.url()),
                ("PARLOR_HTTP_ADDR", format!("127.0.0.1:{port}")),
                ("PARLOR_JWT_SECRET", secret.clone()),
            ],
        )?;
        let mut session = ServiceChild::start(
            &session_bin,
            dir.path(),
            &[
                ("NATS_URL", nats.url()),
                ("ELEVENLABS_API_KEY", sim.api_key().to_owned()),
                ("ELEVENLABS_BASE_URL", sim.http_base_url()),
                ("PARLOR_SESSION_INSTANCE", "session-bench".to_owned()),
                (
                    "PARLOR_SESSION_MAX_LIVE",
                    (sizes.memory_calls + 10).to_string(),
                ),
            ],
        )?;
        let calls = Calls {
            gateway: Endpoints::from_http_base(&format!("http://127.0.0.1:{port}"))?,
            agent_id: sim.default_agent_id().to_owned(),
            secret: JwtSecret::new(secret.as_bytes())?,
            nats: async_nats::connect(nats.url()).await?,
        };
        let figures = measure(&calls, &mut gateway, &mut session, sizes.memory_calls).await;
        gateway.stop().await;
        session.stop().await;
        let _ = stop_ledger.send(true);
        ledger.await??;
        figures
    }
    .await;
    sim.shutdown().await;
    nats.stop().await;
    measured
}

fn binary(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    if !path.is_file() {
        bail!(
            "no `{name}` binary at {}: build it (`cargo build --release -p gateway -p session`) or pass --bin-dir",
            path.display()
        );
    }
    Ok(path)
}

struct Calls {
    gateway: Endpoints,
    agent_id: String,
    secret: JwtSecret,
    nats: async_nats::Client,
}

async fn measure(
    calls: &Calls,
    gateway: &mut ServiceChild,
    session: &mut ServiceChild,
    total: usize,
) -> anyhow::Result<Vec<Figure>> {
    let first = (total / 10).max(1);
    let (release, released) = watch::channel(false);
    let mut held = tokio::task::JoinSet::new();
    open_first(calls, [gateway, session], &released, &mut held).await?;
    open(calls, first - 1, &released, &mut held).await?;
    let before = (gateway.rss_kib()?, session.rss_kib()?);
    open(calls, total - first, &released, &mut held).await?;
    let after = (gateway.rss_kib()?, session.rss_kib()?);
    let _ = release.send(true);
    while let Some(done) = held.join_next().await {
        done??;
    }
    let added = (total - first).max(1) as f64;
    let per_call = |before: u64, after: u64| after.saturating_sub(before) as f64 / added;
    Ok(vec![
        Figure::new(
            "memory",
            format!("gateway @ {total} calls"),
            "KiB/call",
            per_call(before.0, after.0),
            "goal",
            GOAL_KIB,
        ),
        Figure::new(
            "memory",
            format!("session @ {total} calls"),
            "KiB/call",
            per_call(before.1, after.1),
            "goal",
            GOAL_KIB,
        ),
    ])
}

/// The first call, retried until both children answer.
async fn open_first(
    calls: &Calls,
    children: [&mut ServiceChild; 2],
    released: &watch::Receiver<bool>,
    held: &mut tokio::task::JoinSet<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + READY_DEADLINE;
    let mut children = children;
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    loop {
        pace.tick().await;
        match open(calls, 1, released, held).await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() > deadline => {
                return Err(e.context("the gateway and session children never took a call"));
            }
            Err(_) => {
                for child in &mut children {
                    child.check_running()?;
                }
            }
        }
    }
}

/// Opens `count` calls, each its own user, and leaves them held.
async fn open(
    calls: &Calls,
    count: usize,
    released: &watch::Receiver<bool>,
    held: &mut tokio::task::JoinSet<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let opened: Vec<anyhow::Result<load::Ws>> = futures::stream::iter(0..count)
        .map(|_| async {
            let user = load::grant(&calls.nats, UserId::new()).await?;
            let token =
                gateway::issue_token(&calls.secret, user, Role::User, Duration::from_secs(3600));
            let (ws, _) =
                load::open(&calls.gateway, &calls.agent_id, Some(ApiKey::new(token))).await?;
            Ok(ws)
        })
        .buffer_unordered(OPENING)
        .collect()
        .await;
    for ws in opened {
        let ws = ws?;
        let mut released = released.clone();
        held.spawn(load::hold(ws, async move {
            let _ = released.wait_for(|release| *release).await;
        }));
    }
    Ok(())
}

/// A service binary run as a child, its output in the bench's directory.
struct ServiceChild {
    name: String,
    child: Child,
}

impl ServiceChild {
    fn start(bin: &Path, dir: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let name = bin.file_name().map_or_else(
            || "service".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
        let mut command = Command::new(bin);
        command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(Self { name, child })
    }

    fn pid(&self) -> anyhow::Result<u32> {
        self.child
            .id()
            .with_context(|| format!("{} has exited", self.name))
    }

    fn check_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            Some(status) => bail!("{} exited early ({status})", self.name),
            None => Ok(()),
        }
    }

    /// Resident set size now, from `/proc/<pid>/status`.
    fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?))
            .with_context(|| format!("reading {}'s /proc status", self.name))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no VmRSS in {}'s /proc status", self.name))
    }

    /// Ctrl-C, as an operator would, then a kill if it lingers.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let interrupted = Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .await;
            if interrupted.is_ok()
                && tokio::time::timeout(STOP_DEADLINE, self.child.wait())
                    .await
                    .is_ok()
            {
                return;
            }
        }
        if let Err(e) = self.child.kill().await {
            tracing::warn!(service = %self.name, error = %e, "could not kill");
        }
    }
}
