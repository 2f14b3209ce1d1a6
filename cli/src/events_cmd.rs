//! `parlor events tail | show <aggregate> | stats | parked`: the log and
//! what the projector set aside, as JSON lines (default) or a readable
//! table, filtered by type, user, agent and time.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use events::{AccountId, AgentId, ConversationId, RawEnvelope, UserId};
use eventstore::{EventStore, LogMessage, ReplayFrom, StreamName};
use futures::{Stream, StreamExt, TryStreamExt};
use mongodb::bson::{Bson, Document};

use crate::event_stats::Stats;
use crate::table::Table;

#[derive(Args)]
pub struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
    /// NATS server holding the log.
    #[arg(
        long,
        global = true,
        env = "NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// How to print: one JSON object per line, or an aligned table.
    #[arg(long, global = true, value_enum, default_value_t = Format::Json)]
    format: Format,
    #[command(flatten)]
    filter: Filter,
}

/// Which events to show.
#[derive(Args, Clone, Debug, Default)]
pub struct Filter {
    /// Only this event type; `conversation.*` for a family.
    #[arg(long = "type", global = true, value_name = "TYPE")]
    event_type: Option<String>,
    /// Only events of this user (24-hex id).
    #[arg(long, global = true)]
    user: Option<UserId>,
    /// Only events of this agent.
    #[arg(long, global = true)]
    agent: Option<AgentId>,
    /// Only events that occurred at or after this RFC 3339 time.
    #[arg(long, global = true)]
    since: Option<DateTime<Utc>>,
    /// Only events that occurred at or before this RFC 3339 time.
    #[arg(long, global = true)]
    until: Option<DateTime<Utc>>,
}

impl Filter {
    fn admits(&self, raw: &RawEnvelope) -> bool {
        let type_ok = match self.event_type.as_deref() {
            None => true,
            Some(family) if family.ends_with(".*") => {
                raw.event_type.starts_with(family.trim_end_matches('*'))
            }
            Some(exact) => raw.event_type == exact,
        };
        type_ok
            && self.user.is_none_or(|u| {
                raw.user_id == Some(u) || raw.aggregate_id == AccountId::User(u).to_string()
            })
            && self
                .agent
                .as_ref()
                .is_none_or(|a| raw.agent_id.as_ref() == Some(a))
            && self.since.is_none_or(|t| raw.occurred_at >= t)
            && self.until.is_none_or(|t| raw.occurred_at <= t)
    }
}

#[derive(Subcommand)]
enum EventsCommand {
    /// The log's events in order, both streams; with `--follow`, then each
    /// new one as it is stored.
    Tail {
        /// Keep printing events as they are stored, until Ctrl-C.
        #[arg(long)]
        follow: bool,
    },
    /// The events of one conversation (24-hex id) or account (`user-<id>`,
    /// `system-<name>`), with their stream sequences.
    Show { aggregate: String },
    /// Counts per stream and type, with the time span they cover.
    Stats,
    /// The events the projector could not apply, with their errors
    /// (MONGODB_URI, MONGODB_DATABASE).
    Parked,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Table,
}

pub async fn run(args: EventsArgs) -> anyhow::Result<()> {
    let table = args.format == Format::Table;
    match args.command {
        EventsCommand::Tail { follow } => tail(&args.nats_url, &args.filter, follow, table).await,
        EventsCommand::Show { aggregate } => {
            show(&aggregate, &args.nats_url, &args.filter, table).await
        }
        EventsCommand::Stats => stats(&args.nats_url, &args.filter, table).await,
        EventsCommand::Parked => parked(table).await,
    }
}

/// Where a stream's read starts: at `since` when given (events are stored
/// in the order they occur, near enough to skip what came before).
fn start(filter: &Filter) -> ReplayFrom {
    filter.since.map_or(ReplayFrom::Beginning, ReplayFrom::Time)
}

/// Every message of both streams as stored now, each with its stream.
async fn both_streams(
    store: &EventStore,
    filter: &Filter,
) -> anyhow::Result<impl Stream<Item = anyhow::Result<(StreamName, LogMessage)>> + use<>> {
    let conversations = store
        .replay(StreamName::Conversations, start(filter))
        .await?;
    let ledger = store.replay(StreamName::Ledger, start(filter)).await?;
    Ok(conversations
        .map_ok(|m| (StreamName::Conversations, m))
        .chain(ledger.map_ok(|m| (StreamName::Ledger, m)))
        .map_err(anyhow::Error::from))
}

async fn tail(nats_url: &str, filter: &Filter, follow: bool, table: bool) -> anyhow::Result<()> {
    let store = EventStore::connect(nats_url).await?;
    let mut rows = Rows::new(table);
    if !follow {
        let mut messages = std::pin::pin!(both_streams(&store, filter).await?);
        while let Some((stream, message)) = messages.try_next().await? {
            rows.add(stream, &message, filter);
        }
        rows.finish();
        return Ok(());
    }
    // Followed events are printed as they come, a table without alignment.
    let live = futures::stream::select(
        projector::feed::follow(&store, StreamName::Conversations, 0).await?,
        projector::feed::follow(&store, StreamName::Ledger, 0).await?,
    );
    let mut live = std::pin::pin!(live);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let mut rows = Rows::new(false);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            next = live.next() => match next {
                Some(message) => {
                    let (stream, message) = message?;
                    rows.add(stream, &message, filter);
                }
                None => bail!("the live read of the log ended"),
            },
        }
    }
}

async fn show(aggregate: &str, nats_url: &str, filter: &Filter, table: bool) -> anyhow::Result<()> {
    let stream = if aggregate.parse::<ConversationId>().is_ok() {
        StreamName::Conversations
    } else if aggregate.parse::<AccountId>().is_ok() {
        StreamName::Ledger
    } else {
        bail!(
            "`{aggregate}` is neither a conversation id (24 hex digits) nor an account id (user-<24 hex>, system-<name>)"
        )
    };
    let store = EventStore::connect(nats_url).await?;
    let subject = format!("{}.{aggregate}", stream.subject_prefix());
    let mut rows = Rows::new(table);
    let mut messages = std::pin::pin!(
        store
            .replay(stream, start(filter))
            .await
            .with_context(|| format!("reading {aggregate}"))?
    );
    while let Some(message) = messages.try_next().await? {
        if message.subject == subject {
            rows.add(stream, &message, filter);
        }
    }
    rows.finish();
    Ok(())
}

async fn stats(nats_url: &str, filter: &Filter, table: bool) -> anyhow::Result<()> {
    let store = EventStore::connect(nats_url).await?;
    let mut stats = Stats::default();
    let mut messages = std::pin::pin!(both_streams(&store, filter).await?);
    while let Some((stream, message)) = messages.try_next().await? {
        match message.raw() {
            Ok(raw) if filter.admits(&raw) => stats.add(stream, &raw),
            Ok(_) => {}
            Err(_) => stats.undecodable(stream),
        }
    }
    stats.print(table);
    Ok(())
}

/// Printed events: JSON lines at once, or a table at the end.
struct Rows {
    table: Option<Table>,
}

impl Rows {
    fn new(table: bool) -> Self {
        Self {
            table: table.then(|| {
                Table::new(&[
                    "stream",
                    "sequence",
                    "occurred_at",
                    "type",
                    "aggregate",
                    "data",
                ])
            }),
        }
    }

    fn add(&mut self, stream: StreamName, message: &LogMessage, filter: &Filter) {
        let raw = match message.raw() {
            Ok(raw) if filter.admits(&raw) => raw,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(sequence = message.sequence, %error, "an undecodable event is left out");
                return;
            }
        };
        match &mut self.table {
            Some(table) => table.row(vec![
                stream.as_str().to_owned(),
                message.sequence.to_string(),
                raw.occurred_at.to_rfc3339(),
                raw.event_type.clone(),
                raw.aggregate_id.clone(),
                raw.data.to_string(),
            ]),
            None => print_line(&serde_json::json!({
                "stream": stream.as_str(),
                "sequence": message.sequence,
                "event": raw,
            })),
        }
    }

    fn finish(&self) {
        if let Some(table) = &self.table {
            table.print_if(true);
        }
    }
}

async fn parked(table: bool) -> anyhow::Result<()> {
    let config = projector::Config::from_env();
    let db = projector::connect_database(&config)
        .await
        .with_context(|| format!("connecting to MongoDB at {}", config.mongodb_uri))?;
    let parked = projector::parked::Parked::new(&db)
        .list()
        .await
        .context("reading the parked events")?;
    let columns = ["stream", "sequence", "subject", "error"];
    let mut rows = Table::new(&columns);
    for event in &parked {
        if table {
            rows.row(columns.iter().map(|key| cell(event, key)).collect());
        } else {
            print_line(&Bson::Document(event.clone()).into_relaxed_extjson());
        }
    }
    rows.print_if(table);
    Ok(())
}

fn cell(document: &Document, key: &str) -> String {
    match document.get(key) {
        Some(Bson::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

#[allow(clippy::print_stdout)]
pub fn print_line(value: &serde_json::Value) {
    println!("{value}");
}
