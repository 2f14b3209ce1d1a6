//! `parlor reprice --rates FILE [--from --to]`: what the conversations in
//! a window would have been estimated at under another rate card
//! (`ledger::reprice`), per user and in total. It posts nothing.

use anyhow::Context;
use chrono::{DateTime, Utc};
use eventstore::EventStore;
use ledger::history::History;
use ledger::pricing::DEFAULT_CREDITS_PER_MINUTE;
use ledger::rates::RateCard;
use ledger::reconcile::Window;
use ledger::reprice::reprice;

#[derive(clap::Args)]
pub struct Args {
    /// The rate card to price against (JSON, see the ledger's `rates` module).
    #[arg(long)]
    rates: std::path::PathBuf,
    #[arg(long)]
    from: Option<DateTime<Utc>>,
    #[arg(long)]
    to: Option<DateTime<Utc>>,
    /// Print every conversation as JSON instead of the summary table.
    #[arg(long)]
    json: bool,
    /// The rate where the card names none.
    #[arg(long, env = "PARLOR_CREDITS_PER_MINUTE", default_value_t = DEFAULT_CREDITS_PER_MINUTE)]
    credits_per_minute: u32,
    /// NATS server holding the log.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
}

#[allow(clippy::print_stdout)]
pub async fn run(args: Args) -> anyhow::Result<()> {
    let card = RateCard::load(&args.rates)?;
    let store = EventStore::connect(&args.nats_url)
        .await
        .with_context(|| format!("connecting to {}", args.nats_url))?;
    let history = History::load(&store).await.context("reading the log")?;
    let window = Window {
        from: args.from,
        to: args.to,
    };
    let repricing = reprice(&history, window, &card, args.credits_per_minute);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&repricing)?);
        return Ok(());
    }
    println!(
        "{:<26} {:>6} {:>12} {:>12} {:>12}",
        "user", "calls", "charged", "repriced", "difference"
    );
    let rows = repricing
        .users
        .iter()
        .map(|(user, sums)| (user.as_str(), sums))
        .chain(std::iter::once(("total", &repricing.total)));
    for (user, sums) in rows {
        println!(
            "{:<26} {:>6} {:>12} {:>12} {:>+12}",
            user,
            sums.conversations,
            sums.charged.get(),
            sums.repriced.get(),
            sums.difference.get()
        );
    }
    Ok(())
}
