//! The session service's configuration, from environment variables.

use std::time::Duration;

use elevenlabs::{ApiKey, Endpoints};

use crate::core::Limits;

/// Events one call may write, its end included (`PARLOR_EVENTS_PER_CALL`).
pub const DEFAULT_EVENTS_PER_CALL: u32 = 2_000;
/// How long a call waits for an unavailable log before it ends
/// (`PARLOR_LOG_OUTAGE_MS`).
pub const DEFAULT_LOG_OUTAGE: Duration = Duration::from_secs(10);
/// Silence from another copy before its calls are swept (`PARLOR_OWNER_TIMEOUT_MS`).
pub const DEFAULT_OWNER_TIMEOUT: Duration = Duration::from_secs(10);
/// An extension is asked for this long before the hold runs out.
pub const EXTEND_AHEAD: Duration = Duration::from_secs(15);
/// How long past the covered time a call runs while the ledger is silent.
pub const EXTEND_GRACE: Duration = Duration::from_secs(30);

/// Where the session service finds NATS and ElevenLabs, and its limits.
#[derive(Clone, Debug)]
pub struct Config {
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `PARLOR_SESSION_INSTANCE`, else `HOSTNAME` (unique per container and
    /// kept across its restarts), else `session-1`: this copy's stable name.
    /// Conversations it owned and never ended are closed as `session_lost`
    /// when a copy of the same name starts again, so copies running at the
    /// same time must have different names.
    pub instance: String,
    /// `ELEVENLABS_BASE_URL` (default the real `https://api.elevenlabs.io`;
    /// the simulator's URL under `parlor up`).
    pub endpoints: Endpoints,
    /// `ELEVENLABS_API_KEY`: held by this service only, never printed.
    pub api_key: ApiKey,
    /// `PARLOR_SESSION_MAX_LIVE`, default 200: live calls per copy before `busy`.
    pub max_live: usize,
    /// How long to wait for the client's `conversation_initiation_client_data`
    /// before opening upstream without it (some clients send none).
    pub initiation_wait: Duration,
    /// `PARLOR_COST_TIMEOUT_SECS`, default 600: how long to poll ElevenLabs
    /// for a finished call's record.
    pub cost_timeout: Duration,
    pub cost_poll: Duration,
    /// The rules' limits: `PARLOR_EVENTS_PER_CALL`, `PARLOR_HEARTBEAT_TIMEOUT_MS`
    /// (silence from the gateway before a call's client is taken for gone,
    /// default 5 000), `PARLOR_EXTEND_AHEAD_MS`.
    pub limits: Limits,
    /// `PARLOR_LOG_OUTAGE_MS`, default 10 000.
    pub log_outage: Duration,
    /// `PARLOR_OWNER_TIMEOUT_MS`, default 10 000: silence from another copy
    /// after which its open calls are closed as `session_lost`.
    pub owner_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("ELEVENLABS_API_KEY is not set (the session service holds the ElevenLabs key)")]
    MissingApiKey,
    #[error("ELEVENLABS_BASE_URL: {0}")]
    BaseUrl(#[from] elevenlabs::ConfigError),
    #[error("{name} `{value}` is not a whole number")]
    Number { name: &'static str, value: String },
}

impl Config {
    /// Defaults for everything but the ElevenLabs connection.
    pub fn new(nats_url: impl Into<String>, endpoints: Endpoints, api_key: ApiKey) -> Self {
        Self {
            nats_url: nats_url.into(),
            instance: "session-1".to_owned(),
            endpoints,
            api_key,
            max_live: 200,
            initiation_wait: Duration::from_secs(1),
            cost_timeout: Duration::from_secs(600),
            cost_poll: Duration::from_secs(1),
            limits: Limits {
                events_per_call: DEFAULT_EVENTS_PER_CALL,
                heartbeat_timeout_ms: millis(bus::live::HEARTBEAT_TIMEOUT),
                extend_ahead_ms: millis(EXTEND_AHEAD),
                extend_grace_ms: millis(EXTEND_GRACE),
            },
            log_outage: DEFAULT_LOG_OUTAGE,
            owner_timeout: DEFAULT_OWNER_TIMEOUT,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            var(name).map_or(Ok(default), |value| {
                value
                    .parse()
                    .map_err(|_| ConfigError::Number { name, value })
            })
        };
        let endpoints = match var("ELEVENLABS_BASE_URL") {
            Some(base) => Endpoints::from_http_base(&base)?,
            None => Endpoints::default(),
        };
        let api_key = ApiKey::new(var("ELEVENLABS_API_KEY").ok_or(ConfigError::MissingApiKey)?);
        let mut config = Self::new(
            var("NATS_URL").unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned()),
            endpoints,
            api_key,
        );
        if let Some(instance) = var("PARLOR_SESSION_INSTANCE").or_else(|| var("HOSTNAME")) {
            config.instance = instance;
        }
        config.max_live =
            usize::try_from(number("PARLOR_SESSION_MAX_LIVE", 200)?).unwrap_or(usize::MAX);
        config.cost_timeout = Duration::from_secs(number("PARLOR_COST_TIMEOUT_SECS", 600)?);
        let limits = &mut config.limits;
        limits.events_per_call = u32::try_from(number(
            "PARLOR_EVENTS_PER_CALL",
            u64::from(DEFAULT_EVENTS_PER_CALL),
        )?)
        .unwrap_or(u32::MAX);
        limits.heartbeat_timeout_ms =
            number("PARLOR_HEARTBEAT_TIMEOUT_MS", limits.heartbeat_timeout_ms)?;
        limits.extend_ahead_ms = number("PARLOR_EXTEND_AHEAD_MS", limits.extend_ahead_ms)?;
        config.log_outage =
            Duration::from_millis(number("PARLOR_LOG_OUTAGE_MS", millis(DEFAULT_LOG_OUTAGE))?);
        config.owner_timeout = Duration::from_millis(number(
            "PARLOR_OWNER_TIMEOUT_MS",
            millis(DEFAULT_OWNER_TIMEOUT),
        )?);
        Ok(config)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
