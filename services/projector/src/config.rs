//! The projector service's configuration, from environment variables.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

use crate::document::DEFAULT_EMBEDDED_MESSAGES;
use crate::rollup::DEFAULT_USD_PER_MILLION_CREDITS;

/// Events one batch holds at most (`PARLOR_PROJECTOR_BATCH_EVENTS`).
pub const DEFAULT_BATCH_EVENTS: usize = 1_000;
/// How long a batch waits to fill (`PARLOR_PROJECTOR_BATCH_LINGER_MS`).
pub const DEFAULT_BATCH_LINGER: Duration = Duration::from_millis(10);
/// How long the service waits before resuming after a failed read or write.
pub const RETRY_DELAY: Duration = Duration::from_millis(500);

/// Where the projector service finds its dependencies.
#[derive(Clone, Debug)]
pub struct Config {
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `MONGODB_URI`, default `mongodb://127.0.0.1:27017`.
    pub mongodb_uri: String,
    /// `MONGODB_DATABASE`, default `parlor` (DESIGN §3).
    pub mongodb_database: String,
}

/// How the projector batches and bounds its documents.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuning {
    /// `PARLOR_PROJECTOR_BATCH_EVENTS`: events per batch at most.
    pub batch_events: usize,
    /// `PARLOR_PROJECTOR_EMBEDDED_MESSAGES`: messages a document embeds;
    /// later ones go to `conversation_messages` only.
    pub embedded_messages: usize,
    /// `PARLOR_PROJECTOR_BATCH_LINGER_MS`: how long the first event of a
    /// batch waits for more before the batch is written.
    pub batch_linger: Duration,
    /// `PARLOR_PROJECTOR_REBUILD_HELD_EVENTS`: events a rebuild folds in
    /// memory before writing out what it holds (bounds its memory).
    pub rebuild_held_events: usize,
    /// `PARLOR_USD_PER_MILLION_CREDITS`: what usage rollups show as money.
    pub usd_per_million_credits: f64,
    pub retry_delay: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            batch_events: DEFAULT_BATCH_EVENTS,
            embedded_messages: DEFAULT_EMBEDDED_MESSAGES,
            batch_linger: DEFAULT_BATCH_LINGER,
            rebuild_held_events: crate::fold::HELD_EVENTS,
            usd_per_million_credits: DEFAULT_USD_PER_MILLION_CREDITS,
            retry_delay: RETRY_DELAY,
        }
    }
}

impl Config {
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Self {
            nats_url: var("NATS_URL", "nats://127.0.0.1:4222"),
            mongodb_uri: var("MONGODB_URI", "mongodb://127.0.0.1:27017"),
            mongodb_database: var("MONGODB_DATABASE", "parlor"),
        }
    }
}

/// This copy's name as a rebuild's lease holder: `PARLOR_PROJECTOR_INSTANCE`,
/// else `HOSTNAME`, else `projector-1`. A restarted copy keeps its name, so
/// it can take over the lease its killed predecessor held.
pub fn instance_from_env() -> String {
    ["PARLOR_PROJECTOR_INSTANCE", "HOSTNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "projector-1".to_owned())
}

/// This process's name for the batches its live copies are writing:
/// `PARLOR_PROJECTOR_INSTANCE`, else a random one (unlike the lease
/// holder's, it must differ between copies, and `HOSTNAME` may not).
pub fn writer_instance() -> String {
    static INSTANCE: OnceLock<String> = OnceLock::new();
    INSTANCE
        .get_or_init(|| {
            std::env::var("PARLOR_PROJECTOR_INSTANCE")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| {
                    // Seeded from the operating system's randomness, once per process.
                    let random = RandomState::new().build_hasher().finish();
                    format!("projector-{random:016x}")
                })
        })
        .clone()
}

/// An environment variable the projector cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}={value:?} is not {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl Tuning {
    /// The defaults, overridden by the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            batch_events: positive("PARLOR_PROJECTOR_BATCH_EVENTS", defaults.batch_events)?,
            embedded_messages: positive(
                "PARLOR_PROJECTOR_EMBEDDED_MESSAGES",
                defaults.embedded_messages,
            )?,
            batch_linger: Duration::from_millis(
                u64::try_from(positive(
                    "PARLOR_PROJECTOR_BATCH_LINGER_MS",
                    usize::try_from(defaults.batch_linger.as_millis()).unwrap_or(usize::MAX),
                )?)
                .unwrap_or(u64::MAX),
            ),
            rebuild_held_events: positive(
                "PARLOR_PROJECTOR_REBUILD_HELD_EVENTS",
                defaults.rebuild_held_events,
            )?,
            usd_per_million_credits: rate(
                "PARLOR_USD_PER_MILLION_CREDITS",
                defaults.usd_per_million_credits,
            )?,
            retry_delay: defaults.retry_delay,
        })
    }
}

fn positive(variable: &'static str, default: usize) -> Result<usize, ConfigError> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => match value.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ConfigError {
                variable,
                value,
                expected: "a positive whole number",
            }),
        },
        _ => Ok(default),
    }
}

fn rate(variable: &'static str, default: f64) -> Result<f64, ConfigError> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => match value.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
            _ => Err(ConfigError {
                variable,
                value,
                expected: "a number of at least 0",
            }),
        },
        _ => Ok(default),
    }
}
