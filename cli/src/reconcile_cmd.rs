//! `parlor reconcile [--from --to] [--format json|csv]`: the ledger's
//! reconciliation report (`ledger::reconcile`), computed from the log.

use anyhow::Context;
use chrono::{DateTime, Utc};
use eventstore::EventStore;
use ledger::history::History;
use ledger::rates::RateCard;
use ledger::reconcile::{Report, Window, reconcile};

#[derive(clap::Args)]
pub struct Args {
    /// Only conversations whose first event is at or after this time (RFC 3339).
    #[arg(long)]
    from: Option<DateTime<Utc>>,
    /// Only conversations whose first event is before this time (RFC 3339).
    #[arg(long)]
    to: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// The rate card whose price per credit shows money (default: USD 0.00022).
    #[arg(long, env = "PARLOR_RATE_CARD")]
    rates: Option<std::path::PathBuf>,
    /// NATS server holding the log.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        anyhow::ensure!(from < to, "--from {from} is not before --to {to}");
    }
    let card = match &args.rates {
        Some(path) => RateCard::load(path)?,
        None => RateCard::default(),
    };
    let store = EventStore::connect(&args.nats_url)
        .await
        .with_context(|| format!("connecting to {}", args.nats_url))?;
    let history = History::load(&store).await.context("reading the log")?;
    let window = Window {
        from: args.from,
        to: args.to,
    };
    let report = reconcile(&history, window, &card.price);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            std::io::Write::write_all(&mut out, b"\n")?;
        }
        Format::Csv => write_csv(&mut out, &report)?,
    }
    Ok(())
}

/// One row per conversation, then one of totals (`conversation_id` = `total`).
fn write_csv(out: impl std::io::Write, report: &Report) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "conversation_id",
        "user_id",
        "agent_id",
        "started_at",
        "held",
        "estimate",
        "final_charge",
        "reported",
        "reported_call",
        "reported_llm",
        "difference",
        "cause",
        "flags",
        "amount",
        "currency",
    ])?;
    let text = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for line in &report.conversations {
        let flags: Vec<String> = line
            .flags
            .iter()
            .map(|f| serde_json::to_value(f).map(|v| v["kind"].as_str().unwrap_or("").to_owned()))
            .chain(
                line.issues
                    .iter()
                    .map(|i| serde_json::to_value(i).map(|v| v.as_str().unwrap_or("").to_owned())),
            )
            .collect::<Result<_, _>>()?;
        let cause = match line.cause {
            Some(cause) => serde_json::to_value(cause)?
                .as_str()
                .unwrap_or("")
                .to_owned(),
            None => String::new(),
        };
        csv.write_record([
            line.conversation_id.to_string(),
            line.user_id.map(|u| u.to_string()).unwrap_or_default(),
            line.agent_id.clone().unwrap_or_default(),
            line.started_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            line.held.get().to_string(),
            line.estimate.get().to_string(),
            line.final_charge.get().to_string(),
            text(line.reported.map(|c| c.get())),
            text(line.reported_call.map(|c| c.get())),
            text(line.reported_llm.map(|c| c.get())),
            line.difference.get().to_string(),
            cause,
            flags.join(" "),
            line.amount.to_string(),
            report.price.currency.clone(),
        ])?;
    }
    let t = &report.totals;
    csv.write_record([
        "total".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        t.estimate.get().to_string(),
        t.final_charge.get().to_string(),
        t.reported.get().to_string(),
        String::new(),
        String::new(),
        t.difference.get().to_string(),
        String::new(),
        format!("trial_balance={}", report.trial_balance.total.get()),
        t.amount.to_string(),
        report.price.currency.clone(),
    ])?;
    csv.flush()?;
    Ok(())
}
