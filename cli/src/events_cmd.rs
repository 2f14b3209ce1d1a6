//! `parlor events show <aggregate> | parked`: the log and what the projector
//! set aside, as JSON lines (default) or a readable table.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use events::{AccountId, ConversationEvent, ConversationId, LedgerEvent};
use eventstore::{EventStore, Family};
use mongodb::bson::Document;

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
}

#[derive(Subcommand)]
enum EventsCommand {
    /// The events of one conversation (24-hex id) or account (`user-<id>`,
    /// `system-<name>`), with their stream sequences.
    Show { aggregate: String },
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
    match args.command {
        EventsCommand::Show { aggregate } => show(&aggregate, &args.nats_url, args.format).await,
        EventsCommand::Parked => parked(args.format).await,
    }
}

async fn show(aggregate: &str, nats_url: &str, format: Format) -> anyhow::Result<()> {
    let conversation = aggregate.parse::<ConversationId>().ok();
    let account = aggregate.parse::<AccountId>().ok();
    if conversation.is_none() && account.is_none() {
        bail!(
            "`{aggregate}` is neither a conversation id (24 hex digits) nor an account id (user-<24 hex>, system-<name>)"
        )
    }
    let store = EventStore::connect(nats_url).await?;
    match (conversation, account) {
        (Some(conversation), _) => {
            print_all::<ConversationEvent>(&store, conversation, format).await
        }
        (None, Some(account)) => print_all::<LedgerEvent>(&store, account, format).await,
        (None, None) => Ok(()),
    }
}

async fn print_all<E: Family>(store: &EventStore, id: E::Id, format: Format) -> anyhow::Result<()> {
    let loaded = store
        .load::<E>(id)
        .await
        .with_context(|| format!("loading {id}"))?;
    let mut table = Table::new(&["sequence", "occurred_at", "type", "data"]);
    for stored in &loaded.events {
        let raw = stored.envelope.to_raw();
        match format {
            Format::Json => print_line(&serde_json::json!({
                "sequence": stored.sequence,
                "event": raw,
            })),
            Format::Table => table.row(vec![
                stored.sequence.to_string(),
                raw.occurred_at.to_rfc3339(),
                raw.event_type.clone(),
                raw.data.to_string(),
            ]),
        }
    }
    table.print_if(format);
    Ok(())
}

async fn parked(format: Format) -> anyhow::Result<()> {
    let config = projector::Config::from_env();
    let db = projector::connect_database(&config)
        .await
        .with_context(|| format!("connecting to MongoDB at {}", config.mongodb_uri))?;
    let parked = projector::parked::Parked::new(&db)
        .list()
        .await
        .context("reading the parked events")?;
    let mut table = Table::new(&["stream", "sequence", "subject", "error"]);
    for event in &parked {
        match format {
            Format::Json => print_line(&relaxed_json(event)),
            Format::Table => table.row(
                ["stream", "sequence", "subject", "error"]
                    .iter()
                    .map(|key| {
                        event
                            .get(*key)
                            .map(|v| match v {
                                mongodb::bson::Bson::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .unwrap_or_default()
                    })
                    .collect(),
            ),
        }
    }
    table.print_if(format);
    Ok(())
}

fn relaxed_json(document: &Document) -> serde_json::Value {
    mongodb::bson::Bson::Document(document.clone()).into_relaxed_extjson()
}

#[allow(clippy::print_stdout)]
fn print_line(value: &serde_json::Value) {
    println!("{value}");
}

/// Rows printed with aligned columns once all are known.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Wider cells are cut, so one long payload keeps the table readable.
const MAX_CELL: usize = 80;

impl Table {
    fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|cell| {
                    if cell.chars().count() > MAX_CELL {
                        let cut: String = cell.chars().take(MAX_CELL - 1).collect();
                        format!("{cut}…")
                    } else {
                        cell
                    }
                })
                .collect(),
        );
    }

    #[allow(clippy::print_stdout)]
    fn print_if(&self, format: Format) {
        if format != Format::Table {
            return;
        }
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            println!("{}", line.join("  ").trim_end());
        }
    }
}
