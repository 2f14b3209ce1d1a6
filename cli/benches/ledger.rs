//! `cargo bench -p parlor --bench ledger`: `parlor bench --only ledger` at
//! its full size.

use parlor::bench::{self, Name, Sizes};

#[tokio::main]
#[allow(clippy::print_stdout)]
async fn main() -> anyhow::Result<()> {
    let report = bench::run(&bench::Config::beside_this_binary(
        vec![Name::Ledger],
        Sizes::full(),
    )?)
    .await?;
    print!("{report}");
    Ok(())
}
