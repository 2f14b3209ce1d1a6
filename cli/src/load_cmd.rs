//! `parlor load`: starts a stack of its own (nats-server child on a free
//! port with a temporary store, mongo-memory, the simulator in fast mode,
//! the four services), drives `parlor::load` against it and prints the
//! figures.

use anyhow::bail;
use clap::Args;
use parlor::load::{LoadConfig, OwnStack};

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Calls at once through the gateway, the abusive ones included.
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// Turns (user message → agent answer) per polite call.
    #[arg(long, default_value_t = 5)]
    turns: usize,
    /// Calls that flood user messages as fast as they can.
    #[arg(long, default_value_t = 0)]
    floods: usize,
    /// User messages each flooding call sends.
    #[arg(long, default_value_t = 10_000)]
    flood_messages: usize,
    /// Calls that send one frame larger than NATS can carry.
    #[arg(long, default_value_t = 0)]
    oversized: usize,
    /// Calls whose client vanishes (no close frame) right after opening.
    #[arg(long, default_value_t = 0)]
    vanish: usize,
    /// Calls whose client drops its connection halfway through its turns.
    #[arg(long, default_value_t = 0)]
    drops: usize,
}

#[allow(clippy::print_stdout)]
pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let abusive = args.floods + args.oversized + args.vanish + args.drops;
    if abusive > args.calls {
        bail!(
            "--floods, --oversized, --vanish and --drops add up to {abusive}, more than --calls {}",
            args.calls
        );
    }
    let stack = OwnStack::start(args.calls).await?;
    let config = LoadConfig {
        calls: args.calls,
        turns: args.turns,
        floods: args.floods,
        oversized: args.oversized,
        vanishing: args.vanish,
        drops: args.drops,
        flood_messages: args.flood_messages,
    };
    let report = parlor::load::run(&stack.target, &config).await;
    let stopped = stack.stop().await;
    let report = report?;
    print!("{report}");
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        std::env::consts::ARCH
    );
    stopped
}
