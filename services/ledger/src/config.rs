//! The ledger service's configuration, from environment variables.

use std::str::FromStr;
use std::time::Duration;

/// How long a conversation event handed to a ledger copy may stay
/// unacknowledged before it goes to another (or a restarted) copy.
pub const DEFAULT_ACK_WAIT_SECS: u64 = 30;

/// Where the ledger service finds its dependencies.
#[derive(Clone, Debug)]
pub struct Config {
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `PARLOR_LEDGER_ACK_WAIT_SECS`, default 30; set when the durable
    /// consumer is first created.
    pub ack_wait: Duration,
}

impl Config {
    /// From the environment; an unusable `PARLOR_LEDGER_ACK_WAIT_SECS` is an error.
    pub fn from_env() -> Result<Self, ConfigError> {
        let ack_wait = env_number("PARLOR_LEDGER_ACK_WAIT_SECS", DEFAULT_ACK_WAIT_SECS)?;
        if ack_wait == 0 {
            return Err(ConfigError::OutOfRange {
                name: "PARLOR_LEDGER_ACK_WAIT_SECS",
                value: ack_wait,
                why: "must be at least 1",
            });
        }
        Ok(Self {
            nats_url: std::env::var("NATS_URL")
                .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned()),
            ack_wait: Duration::from_secs(ack_wait),
        })
    }

    /// The defaults, against `nats_url`.
    pub fn new(nats_url: impl Into<String>) -> Self {
        Self {
            nats_url: nats_url.into(),
            ack_wait: Duration::from_secs(DEFAULT_ACK_WAIT_SECS),
        }
    }
}

/// An environment variable that is set but unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}={value:?} is not a valid whole number")]
    NotANumber { name: &'static str, value: String },
    #[error("{name}={value} is out of range: {why}")]
    OutOfRange {
        name: &'static str,
        value: u64,
        why: &'static str,
    },
    #[error(transparent)]
    RateCard(#[from] crate::rates::RateCardError),
}

/// `name` parsed as a number, `default` when unset.
pub(crate) fn env_number<N: FromStr>(name: &'static str, default: N) -> Result<N, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::NotANumber { name, value }),
    }
}
