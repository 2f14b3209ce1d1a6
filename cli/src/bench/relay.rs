//! Relay: a turn (user message → agent answer) through gateway + session,
//! against the same polite clients talking to the simulator directly, at
//! each concurrency of `--calls`. Each concurrency gets a fresh stack; the
//! load harness measures both sides.

use super::{Figure, Sizes};
use crate::load::{self, LoadConfig, OwnStack};

const BASELINE: &str = "client → simulator direct";

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for &calls in &sizes.relay_calls {
        let stack = OwnStack::start(calls).await?;
        let config = LoadConfig {
            calls,
            turns: sizes.relay_turns,
            floods: 0,
            oversized: 0,
            vanishing: 0,
            drops: 0,
            flood_messages: 0,
        };
        let report = load::run(&stack.target, &config).await;
        let stopped = stack.stop().await;
        let report = report?;
        stopped?;
        if let Some(error) = report.errors.first() {
            anyhow::bail!("a relayed call failed at {calls} calls: {error}");
        }
        for (quantile, relayed, direct) in [
            ("p50", report.relayed.p50_ms, report.direct.p50_ms),
            ("p99", report.relayed.p99_ms, report.direct.p99_ms),
        ] {
            figures.push(Figure::new(
                "relay",
                format!("{quantile} @ {calls} calls"),
                "ms",
                relayed,
                BASELINE,
                direct,
            ));
        }
    }
    Ok(figures)
}
