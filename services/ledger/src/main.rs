//! The `ledger` binary: the ledger service alone, configured by environment
//! variables (see the README), stopped by Ctrl-C.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let shutdown = async {
        // If the signal cannot be watched, stopping by kill still works.
        let _ = tokio::signal::ctrl_c().await;
    };
    ledger::run(ledger::Config::from_env()?, shutdown).await?;
    Ok(())
}
