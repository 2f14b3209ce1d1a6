//! What a bench run measured: figures with their baselines, the machine,
//! the JSON written by `--out` and the printed table.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// One measured figure beside its baseline.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// The bench (`append`, `relay`, `ledger`, `rebuild`, `projector`, `memory`).
    pub bench: &'static str,
    /// What was measured, e.g. `p99 @ 100 calls` or `gateway`.
    pub figure: String,
    pub unit: &'static str,
    pub value: f64,
    /// What the baseline is, e.g. `raw JetStream publish`.
    pub baseline_name: &'static str,
    pub baseline: f64,
    /// `value / baseline`.
    pub ratio: f64,
    /// `value - baseline`: for the relay, the latency gateway + session add.
    pub difference: f64,
    /// Whether a larger value is better (rates) or worse (latency, memory).
    pub higher_is_better: bool,
}

impl Figure {
    pub fn new(
        bench: &'static str,
        figure: impl Into<String>,
        unit: &'static str,
        value: f64,
        baseline_name: &'static str,
        baseline: f64,
    ) -> Self {
        Self {
            bench,
            figure: figure.into(),
            unit,
            value,
            baseline_name,
            baseline,
            ratio: value / baseline.max(f64::MIN_POSITIVE),
            difference: value - baseline,
            higher_is_better: unit.ends_with("/s"),
        }
    }
}

/// Where it ran.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub arch: &'static str,
    pub os: &'static str,
    pub cpu: Option<String>,
    pub memory_kib: Option<u64>,
    /// `release` or `debug`: a debug build's figures are not comparable.
    pub build: &'static str,
    /// The load average when the run began: other work on the machine.
    pub load_average: Option<String>,
}

impl Machine {
    pub fn this_one() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            arch: std::env::consts::ARCH,
            os: std::env::consts::OS,
            cpu: cpuinfo
                .lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split(':').nth(1))
                .map(|name| name.trim().to_owned()),
            memory_kib: meminfo
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok()),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            load_average: std::fs::read_to_string("/proc/loadavg").ok().map(|text| {
                text.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        }
    }
}

/// Every figure of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub figures: Vec<Figure>,
}

impl Report {
    pub fn new(machine: Machine) -> Self {
        Self {
            machine,
            figures: Vec::new(),
        }
    }
}

/// Events (or other units) per second over `elapsed`.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        writeln!(
            f,
            "parlor bench: {} cores, {}, {} MiB, {} build, load average {}",
            m.cores,
            m.cpu.as_deref().unwrap_or(m.arch),
            m.memory_kib.unwrap_or(0) / 1024,
            m.build,
            m.load_average.as_deref().unwrap_or("unknown"),
        )?;
        writeln!(
            f,
            "{:<10} {:<26} {:>12} {:<10} {:<30} {:>12} {:>12} {:>8}",
            "bench", "figure", "value", "unit", "baseline", "baseline", "difference", "ratio"
        )?;
        for x in &self.figures {
            writeln!(
                f,
                "{:<10} {:<26} {:>12.2} {:<10} {:<30} {:>12.2} {:>+12.2} {:>7.2}x",
                x.bench,
                x.figure,
                x.value,
                x.unit,
                x.baseline_name,
                x.baseline,
                x.difference,
                x.ratio
            )?;
        }
        Ok(())
    }
}
