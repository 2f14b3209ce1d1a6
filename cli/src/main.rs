//! `parlor`: the one command for running and inspecting Parlor on a machine.
//!
//! It owns process orchestration and developer tooling: `up` starts the
//! whole stack (nats-server as a child, mongo-memory, the simulator, the
//! four services in this process), `demo` runs a conversation against it,
//! `events` prints an aggregate's events. It holds no business rules of its
//! own: everything it runs lives in the services and libs.
//!
//! # Layout
//!
//! * [`up`] — `parlor up`.
//! * [`demo`] — `parlor demo`.
//! * [`events_cmd`] — `parlor events tail|show|stats|parked`, with filters.
//! * [`event_stats`] — the counts of `parlor events stats`.
//! * [`table`] — aligned tables for the readable output.
//! * [`rebuild_cmd`] — `parlor rebuild`.
//! * [`load_cmd`] — `parlor load`: a stack of its own under `parlor::load`.
//! * [`bench_cmd`] — `parlor bench`: the figures of `parlor::bench`, printed and as JSON.
//! * [`verify`] — `parlor rebuild --verify`: rebuilt conversations against ElevenLabs' records.
//! * [`serve_cmd`] — `parlor serve <service>`: one service alone, from the environment.
//! * [`reconcile_cmd`], [`ledger_cmd`], [`reprice_cmd`] — `parlor reconcile`,
//!   `parlor ledger explain`, `parlor reprice`: the ledger's reports.

mod bench_cmd;
mod demo;
mod event_stats;
mod events_cmd;
mod ledger_cmd;
mod load_cmd;
mod rebuild_cmd;
mod reconcile_cmd;
mod reprice_cmd;
mod serve_cmd;
mod table;
mod up;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "parlor", version, about = "Run and inspect Parlor")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the whole stack on this machine until Ctrl-C.
    Up,
    /// Run a simulated conversation against `parlor up`; print the
    /// Conversation document and the demo user's balance.
    Demo,
    /// Rebuild the read models from the event log (NATS_URL, MONGODB_URI,
    /// MONGODB_DATABASE) and swap them in; safe while projectors run.
    Rebuild(rebuild_cmd::RebuildArgs),
    /// Inspect the log: one aggregate's events, or the events the
    /// projector parked.
    Events(events_cmd::EventsArgs),
    /// Drive simulated calls (some abusive) through a stack of its own and
    /// print relay latency against a direct baseline, events/s, projector
    /// lag and the ledger's trial balance.
    Load(load_cmd::LoadArgs),
    /// Measure Parlor against baselines of the same run (append, relay,
    /// ledger, rebuild, projector, memory per call); print a table and
    /// write the figures as JSON.
    Bench(bench_cmd::BenchArgs),
    /// Reconcile the ledger against ElevenLabs' reports (JSON or CSV).
    Reconcile(reconcile_cmd::Args),
    /// Inspect the ledger.
    Ledger(ledger_cmd::Args),
    /// Price past conversations against another rate card; posts nothing.
    Reprice(reprice_cmd::Args),
    /// Run one service (gateway, session, ledger or projector) alone,
    /// configured by the environment like its own binary.
    Serve(serve_cmd::ServeArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // A bench's table should not drown in the services' logs.
    let default_filter = match cli.command {
        Command::Bench(_) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Up => up::run(up::UpConfig::from_env()).await,
        Command::Demo => demo::run().await,
        Command::Rebuild(args) => rebuild_cmd::run(args).await,
        Command::Events(args) => events_cmd::run(args).await,
        Command::Load(args) => load_cmd::run(args).await,
        Command::Bench(args) => bench_cmd::run(args).await,
        Command::Reconcile(args) => reconcile_cmd::run(args).await,
        Command::Ledger(args) => ledger_cmd::run(args).await,
        Command::Reprice(args) => reprice_cmd::run(args).await,
        Command::Serve(args) => serve_cmd::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stderr)]
fn report(e: &anyhow::Error) {
    eprintln!("parlor: {e:#}");
}
