//! How a simulator is set up: address, API key, agents, timing, pricing,
//! webhook delivery and the faults armed from the start.

use std::net::SocketAddr;
use std::time::Duration;

use crate::agent::AgentConfig;
use crate::fault::FaultRule;
use crate::pricing::Tier;

/// The API key a simulator accepts when none is configured.
pub const DEFAULT_API_KEY: &str = "sk_sim_0000000000000000";

/// Everything [`crate::Simulator::start`] needs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub bind: SocketAddr,
    /// The only `xi-api-key` the REST surface (and the WebSocket header) accepts.
    pub api_key: String,
    /// The agents served. The first is the default agent; when empty, the
    /// built-in [`AgentConfig::default_agent`] is used.
    pub agents: Vec<AgentConfig>,
    /// Latencies, pacing, cadences and the random seed.
    pub timing: TimingConfig,
    /// The subscription tier whose per-minute rate prices calls (§4.2).
    pub tier: Tier,
    /// Where post-call webhooks go; `None` sends none.
    pub webhook: Option<WebhookConfig>,
    /// Faults armed before the first connection.
    pub faults: Vec<FaultRule>,
    /// How long a signed URL may be used to start a conversation (15 min).
    pub signed_url_ttl: Duration,
    /// Live conversations allowed at once; more are refused with HTTP 429
    /// `too_many_concurrent_requests` at the upgrade. `None`: no limit.
    pub max_concurrent_calls: Option<usize>,
    /// `Retry-After` (seconds) on every 429; `None` sends none, as the
    /// docs describe no such header.
    pub retry_after_secs: Option<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: DEFAULT_API_KEY.to_owned(),
            agents: Vec::new(),
            timing: TimingConfig::default(),
            tier: Tier::Business,
            webhook: None,
            faults: Vec::new(),
            signed_url_ttl: Duration::from_secs(15 * 60),
            max_concurrent_calls: None,
            retry_after_secs: None,
        }
    }
}

impl SimConfig {
    /// The default configuration with [`TimingConfig::fast`], for tests.
    pub fn fast() -> Self {
        Self {
            timing: TimingConfig::fast(),
            ..Self::default()
        }
    }

    /// Adds an agent (builder style).
    pub fn with_agent(mut self, agent: AgentConfig) -> Self {
        self.agents.push(agent);
        self
    }

    /// Sets the webhook target (builder style).
    pub fn with_webhook(mut self, webhook: WebhookConfig) -> Self {
        self.webhook = Some(webhook);
        self
    }
}

/// Timing of the simulated conversation.
#[derive(Debug, Clone)]
pub struct TimingConfig {
    /// Delay between a `user_transcript` and the agent's reply (the "LLM +
    /// TTS time to first byte" Parlor's latency metrics measure).
    pub turn_latency: Duration,
    /// Random extra latency, uniformly in `0..=turn_latency_jitter`, drawn
    /// from the seeded generator.
    pub turn_latency_jitter: Duration,
    /// How fast the agent speaks, in characters per second; sizes the audio.
    pub speech_chars_per_sec: f64,
    /// Wall-clock time per second of agent audio: `1.0` streams in real
    /// time, `0.0` sends all of a turn at once.
    pub speech_pacing: f64,
    /// Length of one agent `audio` chunk.
    pub audio_chunk: Duration,
    /// Interval between `ping`s.
    pub ping_interval: Duration,
    /// Trailing user-audio silence (audio time, not wall time) that ends an
    /// utterance.
    pub utterance_end_silence: Duration,
    /// How long to wait for `conversation_initiation_client_data` before
    /// sending metadata without it.
    pub initiation_wait: Duration,
    /// How long a blocking `client_tool_call` waits for its result.
    pub tool_result_timeout: Duration,
    /// Time a record stays `processing` before it is `done`.
    pub processing_delay: Duration,
    /// Seed of the generator behind jitter and ids.
    pub seed: u64,
}

impl Default for TimingConfig {
    fn default() -> Self {
        Self {
            turn_latency: Duration::from_millis(700),
            turn_latency_jitter: Duration::from_millis(300),
            speech_chars_per_sec: 15.0,
            speech_pacing: 1.0,
            audio_chunk: Duration::from_millis(250),
            ping_interval: Duration::from_secs(3),
            utterance_end_silence: Duration::from_millis(500),
            initiation_wait: Duration::from_secs(2),
            tool_result_timeout: Duration::from_secs(20),
            processing_delay: Duration::from_secs(2),
            seed: 0x5EED,
        }
    }
}

impl TimingConfig {
    /// Timing for tests: millisecond latency, audio sent at once, quick
    /// post-call processing. Conversations still report realistic
    /// durations, because a call lasts at least as long as its audio.
    pub fn fast() -> Self {
        Self {
            turn_latency: Duration::from_millis(5),
            turn_latency_jitter: Duration::ZERO,
            speech_pacing: 0.0,
            ping_interval: Duration::from_millis(200),
            initiation_wait: Duration::from_millis(500),
            tool_result_timeout: Duration::from_secs(5),
            processing_delay: Duration::from_millis(20),
            ..Self::default()
        }
    }
}

/// Where and how post-call webhooks are delivered (§3).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The endpoint that receives the POSTs.
    pub url: String,
    /// The HMAC secret behind `ElevenLabs-Signature`.
    pub secret: String,
    /// Attempts and backoff.
    pub retry: RetryPolicy,
}

impl WebhookConfig {
    /// A webhook with the default (no retry) policy.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            retry: RetryPolicy::default(),
        }
    }
}

/// Webhook retry policy. The real default is "no retry" (§3).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts, at least 1.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub initial_backoff: Duration,
    /// Per-attempt HTTP timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
        }
    }
}
