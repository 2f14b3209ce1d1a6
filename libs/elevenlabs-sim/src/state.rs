//! The state every handler and session shares.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use rand::Rng;
use tokio::sync::{broadcast, watch};

use crate::SimError;
use crate::agent::AgentConfig;
use crate::config::{SimConfig, TimingConfig, WebhookConfig};
use crate::event::SimEvent;
use crate::fault::Faults;
use crate::open_calls::OpenCalls;
use crate::pricing::Tier;
use crate::records::Records;
use crate::signed_url::SignedUrls;

/// Longest call an agent may allow (a day; the real default is 600 s).
const MAX_DURATION_SECS_LIMIT: f64 = 86_400.0;

/// Room for events a slow subscriber has not read yet.
const EVENT_BUFFER: usize = 1024;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) bind: SocketAddr,
    addr: OnceLock<SocketAddr>,
    pub(crate) api_key: String,
    pub(crate) default_agent_id: String,
    agents: RwLock<HashMap<String, AgentConfig>>,
    pub(crate) timing: TimingConfig,
    pub(crate) tier: Tier,
    pub(crate) webhook: Option<WebhookConfig>,
    pub(crate) retry_after_secs: Option<u64>,
    pub(crate) faults: Faults,
    pub(crate) records: Arc<Records>,
    pub(crate) signed_urls: SignedUrls,
    pub(crate) events: broadcast::Sender<SimEvent>,
    conversations_started: AtomicU64,
    max_concurrent_calls: Option<usize>,
    live_calls: Arc<AtomicUsize>,
    pub(crate) open_calls: Arc<OpenCalls>,
    pub(crate) http: reqwest::Client,
    pub(crate) stopping: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(config: SimConfig) -> Result<Self, SimError> {
        let mut agents_list = config.agents;
        if agents_list.is_empty() {
            agents_list.push(AgentConfig::default_agent());
        }
        let default_agent_id = agents_list[0].agent_id.clone();
        let mut agents = HashMap::new();
        for agent in agents_list {
            validate(&agent)?;
            let id = agent.agent_id.clone();
            if agents.insert(id.clone(), agent).is_some() {
                return Err(SimError::InvalidAgent(format!("duplicate agent_id {id}")));
            }
        }
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (stopping, _) = watch::channel(false);
        Ok(Self {
            bind: config.bind,
            addr: OnceLock::new(),
            api_key: config.api_key,
            default_agent_id,
            agents: RwLock::new(agents),
            records: Arc::new(Records::new(events.clone())),
            signed_urls: SignedUrls::new(config.signed_url_ttl),
            timing: config.timing,
            tier: config.tier,
            webhook: config.webhook,
            retry_after_secs: config.retry_after_secs,
            faults: Faults::new(config.faults),
            events,
            conversations_started: AtomicU64::new(0),
            max_concurrent_calls: config.max_concurrent_calls,
            live_calls: Arc::new(AtomicUsize::new(0)),
            open_calls: Arc::new(OpenCalls::default()),
            http: reqwest::Client::new(),
            stopping,
        })
    }

    pub(crate) fn set_addr(&self, addr: SocketAddr) {
        let _ = self.addr.set(addr);
    }

    /// The bound address (the configured one before binding).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr.get().copied().unwrap_or(self.bind)
    }

    pub(crate) fn agent(&self, agent_id: &str) -> Option<AgentConfig> {
        self.agents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(agent_id)
            .cloned()
    }

    pub(crate) fn agents(&self) -> Vec<AgentConfig> {
        let mut all: Vec<AgentConfig> = self
            .agents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
        all
    }

    pub(crate) fn put_agent(&self, agent: AgentConfig) -> Result<(), SimError> {
        validate(&agent)?;
        self.agents
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(agent.agent_id.clone(), agent);
        Ok(())
    }

    /// Removes an agent; false when there was none.
    pub(crate) fn remove_agent(&self, agent_id: &str) -> bool {
        self.agents
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(agent_id)
            .is_some()
    }

    /// A new `conv_…` id and the seed for that conversation's generator.
    pub(crate) fn next_conversation(&self) -> (String, u64) {
        let n = self.conversations_started.fetch_add(1, Ordering::Relaxed);
        (new_id("conv_"), self.timing.seed.wrapping_add(n))
    }

    /// A slot for one more live call, or `None` at the limit.
    pub(crate) fn call_slot(&self) -> Option<CallSlot> {
        let limit = self.max_concurrent_calls.unwrap_or(usize::MAX);
        self.live_calls
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()?;
        Some(CallSlot(self.live_calls.clone()))
    }

    pub(crate) fn emit(&self, event: SimEvent) {
        // No subscriber is fine: events are for tests that ask.
        let _ = self.events.send(event);
    }
}

/// One live call; the slot frees itself when dropped.
#[derive(Debug)]
pub(crate) struct CallSlot(Arc<AtomicUsize>);

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn validate(agent: &AgentConfig) -> Result<(), SimError> {
    use crate::ws::audio::Format;
    if agent.agent_id.is_empty() {
        return Err(SimError::InvalidAgent("empty agent_id".to_owned()));
    }
    // Bounded so that `Instant + max_duration` can never overflow.
    if !(0.0..=MAX_DURATION_SECS_LIMIT).contains(&agent.max_duration_secs) {
        return Err(SimError::InvalidAgent(format!(
            "{}: max_duration_secs must be within 0..={MAX_DURATION_SECS_LIMIT}",
            agent.agent_id
        )));
    }
    if Format::parse(&agent.input_format).is_none() || Format::parse(&agent.output_format).is_none()
    {
        return Err(SimError::InvalidAgent(format!(
            "{}: unknown audio format",
            agent.agent_id
        )));
    }
    Ok(())
}

/// `prefix` + 26 lowercase alphanumerics, the shape of real ids.
pub(crate) fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut rng = rand::thread_rng();
    let tail: String = (0..26)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}
