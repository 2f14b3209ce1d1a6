//! `cargo bench -p parlor --bench projection`: `parlor bench --only projection` at
//! its full size.

use parlor::bench::{self, Name, Sizes};

#[tokio::main]
#[allow(clippy::print_stdout)]
async fn main() -> anyhow::Result<()> {
    let report = bench::run(&bench::Config::beside_this_binary(
        vec![Name::Projection],
        Sizes::full(),
    )?)
    .await?;
    print!("{report}");
    Ok(())
}
