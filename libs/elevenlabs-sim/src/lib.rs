//! An offline simulator of ElevenLabs Agents: the conversation WebSocket
//! (§1 of `shared/elevenlabs-protocol.md`), the REST surface (§2) and signed
//! post-call webhooks (§3), served on a local port so the client and Parlor's
//! services can be tested with no network.
//!
//! It owns the *server* side of the wire format and writes its JSON straight
//! from the spec; it never depends on the `elevenlabs` client crate, so the
//! two check each other. It never contacts the real service.
//!
//! ```no_run
//! # async fn demo() -> Result<(), elevenlabs_sim::SimError> {
//! let sim = elevenlabs_sim::Simulator::start(elevenlabs_sim::SimConfig::fast()).await?;
//! let url = sim.conversation_url(sim.default_agent_id()); // ws://127.0.0.1:PORT/v1/convai/conversation?agent_id=…
//! # let _ = url; Ok(()) }
//! ```
//!
//! # Layout
//!
//! * [`config`] — `SimConfig`, `TimingConfig` (incl. `fast()`), `WebhookConfig`, `RetryPolicy`.
//! * [`agent`] — `AgentConfig` and its `Responder` (echo, scripted, rules).
//! * [`fault`] — `Fault` values a test arms in the config or at run time.
//! * [`pricing`] — credits per minute by `Tier` (§4.2); billed seconds.
//! * [`event`] — `SimEvent`, the broadcast tests await instead of sleeping.
//! * `state` — what the HTTP handlers and sessions share.
//! * `records` — conversation records and their REST JSON (§2.2, §2.3).
//! * `open_calls` — conversations whose socket is still open.
//! * `postcall` — after a call: pricing, `processing` → `done`, the webhook.
//! * `rest` — the `/v1/convai/...` REST routes: errors, the `xi-api-key`
//!   check and signed URLs (`mod.rs`), `conversations.rs`, `agents.rs`;
//!   and the simulator's own `GET /_sim/open-calls` (`debug.rs`).
//! * `signed_url` — signed-URL tokens.
//! * `webhook` — `ElevenLabs-Signature` signing and delivery with retries.
//! * `ws` — the conversation WebSocket: upgrade and admission (`mod.rs`),
//!   the opening handshake (`opening.rs`), the per-conversation loop
//!   (`session.rs`), client messages and turns (`turns.rs`), replies and
//!   client tools (`tools.rs`), agent speech (`speech.rs`), endings and
//!   close codes (`ending.rs`), event JSON (`events.rs`), tones and VAD
//!   (`audio.rs`).
//!
//! # Choices where the spec is unconfirmed (§7)
//!
//! Signed URLs carry `conversation_signature` (`token` is accepted too); an
//! unknown agent or bad signature is closed with 1008 after the upgrade; an
//! `error` event precedes every server error close, whose reason is the
//! `error_type`; pings go out every `ping_interval` (3 s) and unanswered ones
//! are tolerated; webhooks are not retried unless a [`RetryPolicy`] says so;
//! `metadata.cost` is `call_charge` (no LLM pass-through) at the [`Tier`]'s
//! rate, Business (800 credits/min) by default. Only the override paths
//! §1.2.1 documents are checked against the agent's allow-list; unknown keys
//! anywhere are ignored, and so is the Python SDK 2.x's undocumented
//! `conversation_config_override.text_only` (the call stays in the agent's
//! mode; the SDK drops audio it has no interface for).
//!
//! # Timing
//!
//! A call is billed as ElevenLabs bills it: its wall-clock duration, from
//! the socket's open to the start of its close, rounded up to whole seconds
//! (so any call that opened costs at least one second). `call_duration_secs`,
//! `cost` and the transcript's `time_in_call_secs` all come from that clock,
//! in [`TimingConfig::fast`] mode too; simulated speech that runs ahead of
//! it (fast pacing, interrupted turns) is never billed.

#![warn(missing_docs)]

pub mod agent;
pub mod config;
pub mod event;
pub mod fault;
mod open_calls;
mod postcall;
pub mod pricing;
mod records;
mod rest;
mod signed_url;
mod state;
mod webhook;
mod ws;

use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

pub use agent::{AgentConfig, Reply, Responder, Rule, ToolCall};
pub use config::{RetryPolicy, SimConfig, TimingConfig, WebhookConfig};
pub use event::{ConversationStatus, SimEvent};
pub use fault::{Fault, FaultRule};
pub use pricing::Tier;

use state::Shared;

/// Why the simulator could not start or a wait failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Two agents share an id, or an agent is invalid.
    #[error("invalid agent config: {0}")]
    InvalidAgent(String),
    /// A wait ran out of time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Binds `config.bind` and serves the WebSocket and REST surface.
    pub async fn start(config: SimConfig) -> Result<Self, SimError> {
        let shared = Arc::new(Shared::new(config)?);
        let bind = shared.bind;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|source| SimError::Bind { addr: bind, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr: bind, source })?;
        shared.set_addr(addr);
        let router = rest::router()
            .merge(ws::router())
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // Nagle off, as ElevenLabs' own sockets answer a turn at once.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "simulator server stopped");
            }
        });
        tracing::info!(%addr, "elevenlabs simulator listening");
        Ok(Self {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the REST base URL.
    pub fn http_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT`, the WebSocket base URL.
    pub fn ws_base_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The public-agent WebSocket URL of `agent_id`
    /// (`ws://…/v1/convai/conversation?agent_id=…`).
    pub fn conversation_url(&self, agent_id: &str) -> String {
        format!(
            "{}/v1/convai/conversation?agent_id={agent_id}",
            self.ws_base_url()
        )
    }

    /// The `xi-api-key` the simulator accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// The id of the first configured agent (the built-in one by default).
    pub fn default_agent_id(&self) -> &str {
        &self.shared.default_agent_id
    }

    /// Adds or replaces an agent while running.
    pub fn add_agent(&self, agent: AgentConfig) -> Result<(), SimError> {
        self.shared.put_agent(agent)
    }

    /// Arms a fault: a bare [`Fault`] fires once, a [`FaultRule`] as it says.
    pub fn inject(&self, fault: impl Into<FaultRule>) {
        self.shared.faults.arm(fault.into());
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// A receiver of everything the simulator does from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SimEvent> {
        self.shared.events.subscribe()
    }

    /// Ids of every stored conversation, newest first.
    pub fn conversation_ids(&self) -> Vec<String> {
        self.shared.records.ids()
    }

    /// The `GET /v1/convai/conversations/{id}` JSON of a conversation.
    pub fn conversation(&self, conversation_id: &str) -> Option<serde_json::Value> {
        self.shared.records.details(conversation_id)
    }

    /// Conversation ids (sorted) whose socket has not closed yet; also
    /// served as `GET /_sim/open-calls` (`{"open_calls": [...]}`) for
    /// tests in another process. A call leaves this list before its
    /// [`SimEvent::ConversationEnded`] is sent.
    pub fn open_calls(&self) -> Vec<String> {
        self.shared.open_calls.ids()
    }

    /// Waits until conversation `conversation_id` exists with `status` and
    /// returns its details JSON.
    pub async fn wait_for_conversation(
        &self,
        conversation_id: &str,
        status: ConversationStatus,
        timeout: Duration,
    ) -> Result<serde_json::Value, SimError> {
        self.shared
            .records
            .wait_for(conversation_id, status, timeout)
            .await
    }

    /// Stops accepting connections and waits for the server task.
    pub async fn shutdown(mut self) {
        self.shared.stopping.send_replace(true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shared.stopping.send_replace(true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
