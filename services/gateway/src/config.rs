//! The gateway's configuration, from environment variables.

use std::net::SocketAddr;

/// Where the gateway listens and what it reaches.
#[derive(Clone, Debug)]
pub struct Config {
    /// `PARLOR_HTTP_ADDR`, default `127.0.0.1:8080`; port 0 picks a free one.
    pub http_addr: SocketAddr,
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
}

#[derive(Debug, thiserror::Error)]
#[error("PARLOR_HTTP_ADDR `{0}` is not an address like 127.0.0.1:8080")]
pub struct ConfigError(String);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let http_addr =
            std::env::var("PARLOR_HTTP_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
        Ok(Self {
            http_addr: http_addr.parse().map_err(|_| ConfigError(http_addr))?,
            nats_url: std::env::var("NATS_URL")
                .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned()),
        })
    }
}
