//! `parlor ledger explain <conversation-id>`: one conversation's ledger
//! trail (`ledger::trail`) as a table, with stream sequences and causes.

use anyhow::Context;
use events::ConversationId;
use eventstore::EventStore;
use ledger::history::History;
use ledger::trail::{TrailRow, trail};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(clap::Subcommand)]
enum LedgerCommand {
    /// Every ledger event about a conversation, with its LEDGER sequence,
    /// postings and the event (stream and sequence) that caused it.
    Explain {
        conversation_id: String,
        /// NATS server holding the log.
        #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
    },
}

#[allow(clippy::print_stdout)]
pub async fn run(args: Args) -> anyhow::Result<()> {
    let LedgerCommand::Explain {
        conversation_id,
        nats_url,
    } = args.command;
    let conversation: ConversationId = conversation_id
        .parse()
        .with_context(|| format!("`{conversation_id}` is not a conversation id (24 hex digits)"))?;
    let store = EventStore::connect(&nats_url)
        .await
        .with_context(|| format!("connecting to {nats_url}"))?;
    let history = History::load(&store).await.context("reading the log")?;
    let rows = trail(&history, conversation);
    anyhow::ensure!(
        !rows.is_empty(),
        "the ledger has booked nothing for conversation {conversation}"
    );
    print!("{}", table(&rows));
    Ok(())
}

/// The rows as an aligned text table.
pub fn table(rows: &[TrailRow]) -> String {
    let header = [
        "seq",
        "occurred_at",
        "event",
        "credits",
        "postings",
        "cause",
        "note",
    ]
    .map(str::to_owned);
    let cells: Vec<[String; 7]> = std::iter::once(header)
        .chain(rows.iter().map(|row| {
            let postings: Vec<String> = row
                .postings
                .iter()
                .map(|p| format!("{} {:+}", p.account, p.credits.get()))
                .collect();
            let cause = match (&row.cause, row.causation_id) {
                (Some(c), _) => format!("{} #{} {}", c.stream, c.sequence, c.event_type),
                (None, Some(id)) => format!("event {id}"),
                (None, None) => "request".to_owned(),
            };
            [
                row.sequence.to_string(),
                row.occurred_at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                row.event_type.to_owned(),
                row.credits.get().to_string(),
                postings.join(", "),
                cause,
                row.note.clone(),
            ]
        }))
        .collect();
    let widths: Vec<usize> = (0..7)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
