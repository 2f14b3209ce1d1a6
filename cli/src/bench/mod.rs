//! `parlor bench`: each figure beside a baseline measured in the same run on
//! the same machine, and their ratio. Every bench starts the servers it
//! needs on free ports with temporary stores, so benches never share a log.
//!
//! * [`append`] — `EventStore::append` against raw JetStream publishes
//!   carrying the same headers.
//! * [`relay`] — a turn through gateway + session against the same client
//!   talking to the simulator directly, at each of `--calls`.
//! * [`ledger`] — ledger events booked per second against raw appends.
//! * [`projection`] — rebuild and live projection against raw replay.
//! * [`memory`] — the gateway's and session's RSS growth per live call,
//!   each its own child process, against the 64 KiB goal.
//!
//! It measures and reports; it asserts nothing about the figures.

pub mod append;
pub mod ledger;
pub mod memory;
pub mod projection;
pub mod relay;
mod report;

use std::path::PathBuf;

use anyhow::Context;

pub use report::{Figure, Machine, Report};

/// The benches, by the name `--only` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Name {
    Append,
    Relay,
    Ledger,
    /// Rebuild and live projection (one log, both figures).
    Projection,
    Memory,
}

impl Name {
    pub const ALL: [Self; 5] = [
        Self::Append,
        Self::Relay,
        Self::Ledger,
        Self::Projection,
        Self::Memory,
    ];
}

/// How big each bench is.
#[derive(Clone, Debug)]
pub struct Sizes {
    /// Events appended by each side of the append bench.
    pub append_events: usize,
    /// Aggregates appended to at once (one writer each).
    pub append_writers: usize,
    /// Concurrent calls of each relay run.
    pub relay_calls: Vec<usize>,
    pub relay_turns: usize,
    /// Conversations charged by the ledger, and the baseline's appends.
    pub ledger_conversations: usize,
    pub ledger_baseline_events: usize,
    /// The projection log: calls, and messages per call.
    pub log_calls: u64,
    pub log_messages: u64,
    /// Live calls held open while the services' RSS is read.
    pub memory_calls: usize,
}

impl Sizes {
    /// The sizes the README's figures were measured with.
    pub fn full() -> Self {
        Self {
            append_events: 20_000,
            append_writers: 32,
            relay_calls: vec![1, 100, 500],
            relay_turns: 10,
            ledger_conversations: 4_000,
            ledger_baseline_events: 8_000,
            log_calls: 200,
            log_messages: 500,
            memory_calls: 500,
        }
    }

    /// Small enough for a test: every bench runs, the figures mean little.
    pub fn quick() -> Self {
        Self {
            append_events: 200,
            append_writers: 4,
            relay_calls: vec![1, 2],
            relay_turns: 2,
            ledger_conversations: 20,
            ledger_baseline_events: 64,
            log_calls: 4,
            log_messages: 10,
            memory_calls: 4,
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub only: Vec<Name>,
    pub sizes: Sizes,
    /// Where the `gateway` and `session` binaries are (the memory bench
    /// runs them as child processes).
    pub bin_dir: PathBuf,
}

impl Config {
    /// `only` (all when empty) at `sizes`, the service binaries looked for
    /// beside the running one (`target/<profile>/`).
    pub fn beside_this_binary(only: Vec<Name>, sizes: Sizes) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding this binary")?;
        let bin_dir = exe
            .parent()
            .context("finding this binary's directory")?
            .to_path_buf();
        Ok(Self {
            only,
            sizes,
            bin_dir,
        })
    }
}

/// Runs the chosen benches in order; the first that fails stops the run.
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    let mut report = Report::new(Machine::this_one());
    for name in Name::ALL {
        if !config.only.is_empty() && !config.only.contains(&name) {
            continue;
        }
        tracing::info!(bench = ?name, "running");
        let figures = match name {
            Name::Append => append::run(&config.sizes).await?,
            Name::Relay => relay::run(&config.sizes).await?,
            Name::Ledger => ledger::run(&config.sizes).await?,
            Name::Projection => projection::run(&config.sizes).await?,
            Name::Memory => memory::run(&config.sizes, &config.bin_dir).await?,
        };
        report.figures.extend(figures);
    }
    Ok(report)
}
