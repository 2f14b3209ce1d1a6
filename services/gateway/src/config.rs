//! The gateway's configuration, from environment variables.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use crate::auth::nextauth::EmptySecret;
use crate::auth::{JwtSecret, KeyError, NextAuthKey, PublicKeys, RateConfig, SecretError};
use crate::live::bounds::Bounds;
use crate::live::limit::{DEFAULT_LEASE, MAX_LEASE};

/// Live calls one user may hold open, all gateway copies together.
pub const DEFAULT_LIVE_CALLS_PER_USER: usize = 5;
/// How long `cmd.session.start` may take (it opens the upstream socket).
pub const DEFAULT_SESSION_START_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the gateway listens, what it reaches, and its limits.
#[derive(Clone, Debug)]
pub struct Config {
    /// `PARLOR_HTTP_ADDR`, default `127.0.0.1:8080`; port 0 picks a free one.
    pub http_addr: SocketAddr,
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `MONGODB_URI`, default `mongodb://127.0.0.1:27017`: the read models.
    pub mongodb_uri: String,
    /// `MONGODB_DATABASE`, default `parlor` (DESIGN §3).
    pub mongodb_database: String,
    /// `PARLOR_JWT_SECRET` (required, ≥ 32 bytes): signs and checks HS256
    /// tokens and conversation signatures.
    pub jwt_secret: JwtSecret,
    /// RS256/ES256 keys of an identity provider: `PARLOR_JWT_PUBLIC_KEYS`
    /// (comma-separated PEM files), `PARLOR_JWKS_FILE` (a JWKS document),
    /// with `PARLOR_JWT_AUDIENCE` / `PARLOR_JWT_ISSUER` (comma-separated).
    pub jwt_public_keys: PublicKeys,
    /// `NEXTAUTH_SECRET`: NextAuth session tokens are accepted when set.
    pub nextauth: Option<NextAuthKey>,
    /// `PARLOR_HTTP_REQUESTS_PER_SEC` (default 50) and
    /// `PARLOR_HTTP_REQUEST_BURST` (default 100), per caller.
    pub http_rate: RateConfig,
    /// `PARLOR_LIVE_CALLS_PER_USER`, default 5, across all gateway copies.
    pub live_calls_per_user: usize,
    /// `PARLOR_LIVE_CALL_LEASE_MS`, default 30 000 (at most 600 000): how
    /// long the calls of a gateway copy that died still count.
    pub live_call_lease: Duration,
    /// `PARLOR_SESSION_START_TIMEOUT_MS`, default 10 000.
    pub session_start_timeout: Duration,
    /// Each call's bounds: `PARLOR_MAX_FRAME_BYTES`, `PARLOR_FRAMES_PER_SEC`,
    /// `PARLOR_USER_MESSAGES_PER_SEC`, `PARLOR_USER_MESSAGE_BURST`,
    /// `PARLOR_USER_MESSAGES_PER_CALL` (defaults in `live::bounds`).
    pub bounds: Bounds,
    /// `PARLOR_HEARTBEAT_TIMEOUT_MS`, default 5 000: silence from a call's
    /// session after which the client is closed with 1011.
    pub heartbeat_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("PARLOR_HTTP_ADDR `{0}` is not an address like 127.0.0.1:8080")]
    HttpAddr(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("MONGODB_URI `{uri}` is not a MongoDB connection string: {source}")]
    MongoUri {
        uri: String,
        #[source]
        source: mongodb::error::Error,
    },
    #[error("{name} `{value}` is not a positive whole number")]
    Number { name: &'static str, value: String },
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    NextAuthSecret(#[from] EmptySecret),
    #[error("PARLOR_LIVE_CALL_LEASE_MS must be at most {} ms", MAX_LEASE.as_millis())]
    Lease,
}

impl Config {
    /// The given addresses and secret, default limits.
    pub fn new(http_addr: SocketAddr, nats_url: impl Into<String>, jwt_secret: JwtSecret) -> Self {
        Self {
            http_addr,
            nats_url: nats_url.into(),
            mongodb_uri: "mongodb://127.0.0.1:27017".to_owned(),
            mongodb_database: "parlor".to_owned(),
            jwt_secret,
            jwt_public_keys: PublicKeys::default(),
            nextauth: None,
            http_rate: RateConfig::default(),
            live_calls_per_user: DEFAULT_LIVE_CALLS_PER_USER,
            live_call_lease: DEFAULT_LEASE,
            session_start_timeout: DEFAULT_SESSION_START_TIMEOUT,
            bounds: Bounds::default(),
            heartbeat_timeout: bus::live::HEARTBEAT_TIMEOUT,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let http_addr =
            std::env::var("PARLOR_HTTP_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
        let http_addr = http_addr
            .parse()
            .map_err(|_| ConfigError::HttpAddr(http_addr))?;
        let nats_url =
            std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
        let mut config = Self::new(http_addr, nats_url, JwtSecret::from_env()?);
        if let Some(uri) = set("MONGODB_URI") {
            config.mongodb_uri = uri;
        }
        if let Some(database) = set("MONGODB_DATABASE") {
            config.mongodb_database = database;
        }
        if let Some(n) = positive("PARLOR_LIVE_CALLS_PER_USER")? {
            config.live_calls_per_user = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(ms) = positive("PARLOR_LIVE_CALL_LEASE_MS")? {
            config.live_call_lease = Duration::from_millis(ms);
            if config.live_call_lease > MAX_LEASE {
                return Err(ConfigError::Lease);
            }
        }
        config.jwt_public_keys = public_keys_from_env()?;
        if let Ok(secret) = std::env::var("NEXTAUTH_SECRET") {
            config.nextauth = Some(NextAuthKey::derive(secret.as_bytes())?);
        }
        if let Some(ms) = positive("PARLOR_SESSION_START_TIMEOUT_MS")? {
            config.session_start_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = positive("PARLOR_HEARTBEAT_TIMEOUT_MS")? {
            config.heartbeat_timeout = Duration::from_millis(ms);
        }
        let bounds = &mut config.bounds;
        if let Some(n) = positive("PARLOR_MAX_FRAME_BYTES")? {
            bounds.max_frame_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let rate = |name| -> Result<Option<NonZeroU32>, ConfigError> {
            Ok(positive(name)?.map(|n| {
                NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MAX)
            }))
        };
        if let Some(n) = rate("PARLOR_FRAMES_PER_SEC")? {
            bounds.frames_per_sec = n;
        }
        if let Some(n) = rate("PARLOR_USER_MESSAGES_PER_SEC")? {
            bounds.user_messages_per_sec = n;
        }
        if let Some(n) = rate("PARLOR_USER_MESSAGE_BURST")? {
            bounds.user_message_burst = n;
        }
        if let Some(n) = rate("PARLOR_USER_MESSAGES_PER_CALL")? {
            bounds.user_messages_per_call = n.get();
        }
        if let Some(n) = rate("PARLOR_HTTP_REQUESTS_PER_SEC")? {
            config.http_rate.per_sec = n;
        }
        if let Some(n) = rate("PARLOR_HTTP_REQUEST_BURST")? {
            config.http_rate.burst = n;
        }
        Ok(config)
    }
}

fn public_keys_from_env() -> Result<PublicKeys, ConfigError> {
    let mut keys = PublicKeys::default();
    for path in list("PARLOR_JWT_PUBLIC_KEYS") {
        keys.add_pem_file(Path::new(&path))?;
    }
    if let Some(path) = set("PARLOR_JWKS_FILE") {
        keys.add_jwks_file(Path::new(&path))?;
    }
    keys.set_audience(list("PARLOR_JWT_AUDIENCE"));
    keys.set_issuer(list("PARLOR_JWT_ISSUER"));
    Ok(keys)
}

/// A comma-separated list, blanks dropped.
fn list(name: &str) -> Vec<String> {
    set(name)
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn set(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn positive(name: &'static str) -> Result<Option<u64>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => match value.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(ConfigError::Number { name, value }),
        },
        _ => Ok(None),
    }
}
