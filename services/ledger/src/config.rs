//! The ledger service's configuration, from environment variables.

use std::str::FromStr;

/// Where the ledger service finds its dependencies.
#[derive(Clone, Debug)]
pub struct Config {
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            nats_url: std::env::var("NATS_URL")
                .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned()),
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
