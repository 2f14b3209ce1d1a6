//! `parlor rebuild`: the read models rebuilt from the event log and swapped
//! in (optionally verified against ElevenLabs first), or a dry run of it,
//! or an "as of" view for audits; with a progress bar (events, events/s,
//! ETA) on stderr.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use eventstore::{EventStore, ReplayFrom};
use indicatif::{ProgressBar, ProgressStyle};
use projector::consumer::Until;
use projector::rebuild::{self, Options};

use crate::verify::{Verified, Verifier};

#[derive(Args)]
pub struct RebuildArgs {
    /// Only `all` (every read model is built in one pass and swapped together).
    #[arg(long, default_value = "all")]
    projection: String,
    /// With --into: where each stream starts (a stream sequence, or an RFC 3339 time).
    #[arg(long, value_name = "SEQ|TIME", requires = "into")]
    from: Option<String>,
    /// With --into: the last event to project (a stream sequence of each
    /// stream, or an RFC 3339 time).
    #[arg(long, value_name = "SEQ|TIME", requires = "into")]
    to: Option<String>,
    /// Build an "as of" view into collections suffixed `_<NAME>` instead of
    /// swapping anything.
    #[arg(long, value_name = "NAME")]
    into: Option<String>,
    /// Report what would change, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Before the swap, compare a sample of rebuilt conversations with
    /// ElevenLabs' records (ELEVENLABS_API_KEY, ELEVENLABS_BASE_URL).
    #[arg(long, conflicts_with = "into")]
    verify: bool,
    /// How many conversations --verify compares.
    #[arg(long, default_value_t = 20, requires = "verify")]
    sample: usize,
}

/// A position in the log, as the user wrote it.
enum Position {
    Sequence(u64),
    Time(DateTime<Utc>),
}

fn position(flag: &str, value: &str) -> anyhow::Result<Position> {
    if let Ok(sequence) = value.parse::<u64>() {
        return Ok(Position::Sequence(sequence));
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| Position::Time(t.with_timezone(&Utc)))
        .with_context(|| {
            format!("--{flag} {value}: neither a stream sequence nor an RFC 3339 time")
        })
}

fn options(args: &RebuildArgs) -> anyhow::Result<Options> {
    if args.projection != "all" {
        bail!(
            "--projection {}: the read models are built together in one pass; only `all` is supported",
            args.projection
        );
    }
    if let Some(name) = &args.into
        && (name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        bail!("--into {name}: use letters, digits and `_` only");
    }
    let from = match args
        .from
        .as_deref()
        .map(|v| position("from", v))
        .transpose()?
    {
        None => None,
        Some(Position::Sequence(n)) => Some(ReplayFrom::Sequence(n)),
        Some(Position::Time(t)) => Some(ReplayFrom::Time(t)),
    };
    let to = match args.to.as_deref().map(|v| position("to", v)).transpose()? {
        None => None,
        Some(Position::Sequence(n)) => Some(Until::Sequence(n)),
        Some(Position::Time(t)) => Some(Until::Time(t)),
    };
    Ok(Options {
        dry_run: args.dry_run,
        into: args.into.clone(),
        from,
        to,
        holder: format!("parlor-rebuild-{}", std::process::id()),
    })
}

#[allow(clippy::print_stdout)]
pub async fn run(args: RebuildArgs) -> anyhow::Result<()> {
    let options = options(&args)?;
    let verifier = args
        .verify
        .then(|| Verifier::from_env(args.sample))
        .transpose()?;
    let config = projector::Config::from_env();
    let tuning = projector::Tuning::from_env()?;
    let store = EventStore::connect(&config.nats_url).await?;
    let db = projector::connect_database(&config)
        .await
        .with_context(|| format!("connecting to MongoDB at {}", config.mongodb_uri))?;
    let bar = ProgressBar::new(rebuild::log_size(&store).await?);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  ETA {eta}")
            .context("progress bar template")?,
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut verified = None;
    let check = async |fresh: &str| {
        if let Some(verifier) = &verifier {
            verified = Some(verifier.verify(&db, fresh).await);
        }
    };
    let rebuilt = rebuild::rebuild_checked(
        &store,
        &db,
        tuning,
        &options,
        &mut |n| bar.set_position(n),
        check,
    )
    .await;
    bar.finish_and_clear();
    let rebuilt = rebuilt?;
    if let Some(verified) = verified {
        report(&verified.context("verifying against ElevenLabs")?);
    }
    let per_second = bar.per_sec();
    match (&options.into, options.dry_run) {
        (Some(name), _) => println!(
            "built the \"{name}\" view from {} events (collections suffixed _{name})",
            rebuilt.events
        ),
        (None, true) => {
            println!(
                "dry run over {} events; nothing was changed:",
                rebuilt.events
            );
            for drift in &rebuilt.drift {
                println!(
                    "  {:<22} {:>7} added {:>7} removed {:>7} changed",
                    drift.collection, drift.added, drift.removed, drift.changed
                );
            }
        }
        (None, false) => println!(
            "rebuilt every read model from {} events ({per_second:.0} events/s) and swapped it in",
            rebuilt.events
        ),
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn report(verified: &Verified) {
    println!(
        "verified {} conversations against ElevenLabs: {} figures differ, {} records unreachable",
        verified.checked,
        verified.mismatches.len(),
        verified.unreachable.len()
    );
    for m in &verified.mismatches {
        println!(
            "  {}  {:<9} ours {:>10}  ElevenLabs {:>10}",
            m.conversation, m.field, m.ours, m.theirs
        );
    }
    for (id, error) in &verified.unreachable {
        println!("  {id}: {error}");
    }
}
