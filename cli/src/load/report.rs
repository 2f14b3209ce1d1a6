//! What a load run measured, and its printout.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use sketches_ddsketch::DDSketch;

use super::LoadConfig;
use super::client::{Behaviour, Outcome};

/// p50 and p99 of one set of turn latencies, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencySummary {
    pub turns: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl LatencySummary {
    fn of(sketch: &DDSketch) -> Self {
        let at = |q| sketch.quantile(q).ok().flatten().unwrap_or(0.0);
        Self {
            turns: sketch.count(),
            p50_ms: at(0.5),
            p99_ms: at(0.99),
        }
    }
}

/// The figures of one run.
#[derive(Debug)]
pub struct Report {
    pub config: LoadConfig,
    pub direct: LatencySummary,
    pub relayed: LatencySummary,
    /// Calls by behaviour and how they ended (close code, or `none`).
    pub endings: BTreeMap<String, usize>,
    /// Calls that failed in a way their behaviour did not ask for.
    pub errors: Vec<String>,
    pub events: u64,
    pub elapsed: Duration,
    /// `None`: the read models did not show every call within the wait.
    pub projector_lag: Option<Duration>,
    /// The sum of every posting in the ledger: zero when the books balance.
    pub trial_balance: i64,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        config: LoadConfig,
        direct: &DDSketch,
        relayed: &DDSketch,
        outcomes: Vec<Outcome>,
        events: u64,
        elapsed: Duration,
        projector_lag: Option<Duration>,
        trial_balance: i64,
    ) -> Self {
        let mut endings = BTreeMap::new();
        let mut errors = Vec::new();
        for outcome in outcomes {
            let kind = match outcome.behaviour {
                Behaviour::Polite(_) => "polite",
                Behaviour::Flood(_) => "flood",
                Behaviour::Oversized => "oversized",
                Behaviour::Vanish => "vanish",
                Behaviour::DropMidCall(_) => "drop",
            };
            let code = outcome
                .close_code
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            *endings.entry(format!("{kind} → {code}")).or_insert(0) += 1;
            if let Some(error) = outcome.error {
                errors.push(format!("{kind}: {error}"));
            }
        }
        Self {
            config,
            direct: LatencySummary::of(direct),
            relayed: LatencySummary::of(relayed),
            endings,
            errors,
            events,
            elapsed,
            projector_lag,
            trial_balance,
        }
    }

    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "parlor load: {} calls × {} turns ({} flood, {} oversized, {} vanish, {} drop) in {:.1} s",
            c.calls,
            c.turns,
            c.floods,
            c.oversized,
            c.vanishing,
            c.drops,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "{:<26} {:>8} {:>10} {:>10}",
            "turn latency", "turns", "p50 ms", "p99 ms"
        )?;
        for (name, s) in [
            ("direct to the simulator", self.direct),
            ("through gateway+session", self.relayed),
        ] {
            writeln!(
                f,
                "{name:<26} {:>8} {:>10.2} {:>10.2}",
                s.turns, s.p50_ms, s.p99_ms
            )?;
        }
        writeln!(
            f,
            "{:<26} {:>8} {:>10.2} {:>10.2}",
            "relay added",
            "",
            self.relayed.p50_ms - self.direct.p50_ms,
            self.relayed.p99_ms - self.direct.p99_ms
        )?;
        writeln!(
            f,
            "events: {} ({:.0}/s)",
            self.events,
            self.events_per_sec()
        )?;
        match self.projector_lag {
            Some(lag) => writeln!(
                f,
                "projector lag after the last call: {} ms",
                lag.as_millis()
            )?,
            None => writeln!(
                f,
                "projector lag: the read models did not show every call in time"
            )?,
        }
        writeln!(f, "ledger trial balance: {}", self.trial_balance)?;
        for (ending, count) in &self.endings {
            writeln!(f, "  {ending}: {count}")?;
        }
        for error in &self.errors {
            writeln!(f, "  error: {error}")?;
        }
        Ok(())
    }
}
