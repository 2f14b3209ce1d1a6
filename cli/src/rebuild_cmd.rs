//! `parlor rebuild`: the read models rebuilt from the event log and swapped
//! in (optionally verified against ElevenLabs first), or a dry run of it,
//! or an "as of" view for audits; with a progress bar (events, events/s,
//! ETA) on stderr.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use clap::builder::{PossibleValue, PossibleValuesParser};
use events::ConversationId;
use eventstore::{EventStore, ReplayFrom};
use indicatif::{ProgressBar, ProgressStyle};
use mongodb::bson::{Document, doc};
use projector::consumer::Until;
use projector::names::{self, Projection};
use projector::rebuild::{self, Options};

use crate::verify::{Verified, Verifier};

#[derive(Args)]
pub struct RebuildArgs {
    /// The read model swapped in. Every one is built (they come from one
    /// pass over the log); only this one's collections replace the live ones.
    #[arg(long, default_value = "all", value_parser = projection_names())]
    projection: String,
    /// Rebuild only this conversation (its 24-hex id, or the ElevenLabs
    /// `conv_…` id) from its own events, and replace its document.
    #[arg(long, value_name = "ID", conflicts_with_all = ["into", "dry_run", "verify", "from", "to"])]
    conversation: Option<String>,
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

/// `--projection`'s values, each with the collections it swaps.
fn projection_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        Projection::ALL.map(|p| PossibleValue::new(p.name()).help(p.collections().join(", "))),
    )
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
    let projection = Projection::named(&args.projection)
        .with_context(|| format!("--projection {}: no such read model", args.projection))?;
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
        projection,
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
    if let Some(conversation) = &args.conversation {
        return one_conversation(&store, &db, &tuning, conversation).await;
    }
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
            "rebuilt every read model from {} events ({per_second:.0} events/s) and swapped in {}",
            rebuilt.events,
            match options.projection {
                Projection::All => "all of them".to_owned(),
                one => one.collections().join(", "),
            }
        ),
    }
    Ok(())
}

/// `--conversation`: the conversation `given` (our id, or ElevenLabs' as the
/// read model knows it) rebuilt and replaced.
#[allow(clippy::print_stdout)]
async fn one_conversation(
    store: &EventStore,
    db: &mongodb::Database,
    tuning: &projector::Tuning,
    given: &str,
) -> anyhow::Result<()> {
    let id = match given.parse::<ConversationId>() {
        Ok(id) => id,
        Err(_) if given.starts_with("conv_") => {
            let found = db
                .collection::<Document>(names::CONVERSATIONS)
                .find_one(doc! { "metadata.elevenlabs_conversation_id": given })
                .await?
                .and_then(|d| d.get_object_id("_id").ok())
                .with_context(|| {
                    format!("--conversation {given}: no conversation has this ElevenLabs id")
                })?;
            ConversationId::from_bytes(found.bytes())
        }
        Err(_) => bail!("--conversation {given}: neither a 24-hex conversation id nor a conv_ id"),
    };
    let replaced = projector::single::rebuild_conversation(store, db, tuning, id)
        .await?
        .with_context(|| format!("--conversation {given}: the log holds no event of it"))?;
    println!(
        "rebuilt conversation {id} from {} events ({} overflow messages) and replaced it",
        replaced.events, replaced.overflow
    );
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
