//! `parlor bench`: runs `parlor::bench`, prints the table and writes the
//! figures as JSON.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use parlor::bench::{self, Name, Sizes};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Run only these benches (repeat or comma-separate); all by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Name>,
    /// Where to write the figures as JSON.
    #[arg(long, default_value = "bench.json")]
    out: PathBuf,
    /// Concurrent calls of each relay run.
    #[arg(long, value_delimiter = ',', default_value = "1,100,500")]
    calls: Vec<usize>,
    /// Live calls held open by the memory bench.
    #[arg(long, default_value_t = 500)]
    memory_calls: usize,
    /// Tiny sizes, for a test: every bench runs, the figures mean little.
    #[arg(long)]
    quick: bool,
    /// Where the `gateway` and `session` binaries are; next to this one by default.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

#[allow(clippy::print_stdout)]
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.calls.contains(&0) || args.memory_calls == 0 {
        anyhow::bail!("--calls and --memory-calls must be at least 1");
    }
    let mut sizes = if args.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    if !args.quick || args.calls != [1, 100, 500] {
        sizes.relay_calls = args.calls;
    }
    if !args.quick || args.memory_calls != 500 {
        sizes.memory_calls = args.memory_calls;
    }
    let mut config = bench::Config::beside_this_binary(args.only, sizes)?;
    if let Some(dir) = args.bin_dir {
        config.bin_dir = dir;
    }
    let report = bench::run(&config).await?;
    print!("{report}");
    let json = serde_json::to_vec_pretty(&report)?;
    std::fs::write(&args.out, json).with_context(|| format!("writing {}", args.out.display()))?;
    println!("figures written to {}", args.out.display());
    Ok(())
}
