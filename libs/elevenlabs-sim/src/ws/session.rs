//! One conversation: the opening, then a single loop over client messages
//! and timers (pings, speech pacing, turn latency, tool waits, max
//! duration), then the ending with the close codes of §1.6.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::SinkExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::audio::Format;
use super::ending::{End, Ending};
use super::speech::{Speech, TurnExtras};
use super::{AuthMethod, events, opening};
use crate::agent::{AgentConfig, Reply};
use crate::event::{ConversationStatus, SimEvent};
use crate::fault::Fault;
use crate::postcall::{self, CallOutcome};
use crate::pricing;
use crate::records::{Feedback, Record};
use crate::state::Shared;
use crate::webhook::unix_now;

/// How long to wait for the client's close frame after sending ours.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// How many unanswered pings are remembered for RTT measurement.
const UNANSWERED_PINGS_KEPT: u64 = 16;

/// A reply waiting out the turn latency.
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) at: Instant,
    pub(super) reply: Reply,
    pub(super) user_text: String,
    pub(super) latency: Duration,
}

/// A `client_tool_call` waiting for its `client_tool_result`.
#[derive(Debug)]
pub(super) struct ToolWait {
    pub(super) tool_call_id: String,
    pub(super) tool_name: String,
    pub(super) parameters: Value,
    pub(super) pending: Pending,
    pub(super) asked_at: Instant,
    pub(super) deadline: Instant,
}

/// A user utterance being heard: voiced audio, then trailing silence.
#[derive(Debug, Default)]
pub(super) struct Utterance {
    pub(super) silence: Duration,
}

pub(super) struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) agent: AgentConfig,
    pub(super) conversation_id: String,
    pub(super) socket: WebSocket,
    pub(super) rng: StdRng,
    pub(super) next_event_id: u64,
    /// When the socket opened: the start of the billed wall-clock time.
    pub(super) opened: Instant,
    pub(super) input: Format,
    /// `None` in text-only mode.
    pub(super) output: Option<Format>,
    pub(super) has_user_audio: bool,
    pub(super) has_response_audio: bool,
    pub(super) transcript: Vec<Value>,
    pub(super) user_turns: usize,
    pub(super) agent_turns: u32,
    pub(super) speaking: Option<Speech>,
    pub(super) queue: VecDeque<Pending>,
    pub(super) tool_wait: Option<ToolWait>,
    pub(super) utterance: Option<Utterance>,
    pub(super) audio_transcripts_used: usize,
    pub(super) pings: HashMap<u64, Instant>,
    pub(super) last_rtt_ms: Option<u64>,
    next_ping: Instant,
    max_at: Instant,
    socket_fault: Option<(Fault, u32)>,
}

/// Runs one admitted socket to its end and hands the outcome on.
pub(super) async fn run(
    shared: Arc<Shared>,
    agent: AgentConfig,
    auth: AuthMethod,
    mut socket: WebSocket,
    opened: Instant,
) {
    let Some(init) = opening::receive(&mut socket, shared.timing.initiation_wait).await else {
        return;
    };
    let (conversation_id, seed) = shared.next_conversation();
    let open_call = shared.open_calls.open(&conversation_id);
    let text_only = init.text_only(&agent);
    let (source, source_version) = init.source();
    shared.records.insert(Record {
        conversation_id: conversation_id.clone(),
        agent_id: agent.agent_id.clone(),
        agent_name: agent.name.clone(),
        user_id: init.user_id(),
        status: ConversationStatus::InProgress,
        start_time_unix_secs: unix_now(),
        call_duration_secs: 0,
        transcript: Vec::new(),
        initiation: init.raw.clone(),
        authorization_method: auth.as_str(),
        source,
        source_version,
        text_only,
        termination_reason: String::new(),
        error: None,
        has_user_audio: false,
        has_response_audio: false,
        charging: None,
        analysis: None,
        call_successful: "unknown",
        feedback: Feedback::default(),
    });
    let socket_fault = shared.faults.take(|f| match f {
        Fault::DropSocket { after_agent_turns } | Fault::Close1011 { after_agent_turns } => {
            Some((f.clone(), *after_agent_turns))
        }
        _ => None,
    });
    let now = Instant::now();
    // Formats were validated when the agent was added.
    let input = Format::parse(&agent.input_format).unwrap_or(Format::PCM_16000);
    let output = Format::parse(&agent.output_format).filter(|_| !text_only);
    let mut session = Session {
        rng: StdRng::seed_from_u64(seed),
        next_event_id: 1,
        opened,
        input,
        output,
        has_user_audio: false,
        has_response_audio: false,
        transcript: Vec::new(),
        user_turns: 0,
        agent_turns: 0,
        speaking: None,
        queue: VecDeque::new(),
        tool_wait: None,
        utterance: None,
        audio_transcripts_used: 0,
        pings: HashMap::new(),
        last_rtt_ms: None,
        next_ping: now + shared.timing.ping_interval,
        max_at: opened + Duration::from_secs_f64(agent.max_duration_secs),
        socket_fault,
        shared,
        agent,
        conversation_id,
        socket,
    };
    tracing::debug!(conversation_id = %session.conversation_id, agent_id = %session.agent.agent_id, "conversation started");
    let end = session.converse(init).await;
    tracing::debug!(conversation_id = %session.conversation_id, ?end, "conversation ending");
    let outcome = session.close(end).await;
    let shared = session.shared.clone();
    // The socket closes when the session drops; only then is the call over.
    drop(session);
    drop(open_call);
    postcall::finish(shared, outcome);
}

/// One wake-up of the loop.
enum Step {
    Message(Option<Result<Message, axum::Error>>),
    Timer,
    Stop,
}

impl Session {
    async fn converse(&mut self, init: opening::Initiation) -> End {
        let meta = events::metadata(
            &self.conversation_id,
            &self.agent.output_format,
            &self.agent.input_format,
        );
        if let Some(end) = self.send(&meta).await {
            return end;
        }
        self.shared.emit(SimEvent::ConversationStarted {
            conversation_id: self.conversation_id.clone(),
            agent_id: self.agent.agent_id.clone(),
        });
        if let Some(field) = init
            .overrides()
            .and_then(|o| opening::disallowed_override(&self.agent, o))
        {
            return End::bad_input(
                "override_error",
                format!("Override for field '{field}' is not allowed by config."),
            );
        }
        let mut variables = init.dynamic_variables();
        variables.insert("system__agent_id".into(), json!(self.agent.agent_id));
        variables.insert(
            "system__conversation_id".into(),
            json!(self.conversation_id),
        );
        if let Some(text) = init.first_message(&self.agent) {
            match opening::fill_variables(&text, &variables) {
                Ok(text) => self.start_speech(text, TurnExtras::default()).await,
                Err(name) => {
                    return End::bad_input(
                        "missing_dynamic_variable",
                        format!(
                            "Missing required dynamic variables in first message: {{'{name}'}}"
                        ),
                    );
                }
            }
        }
        if let Some(message) = init.deferred
            && let Some(end) = self.incoming(message).await
        {
            return end;
        }
        let mut stopping = self.shared.stopping.subscribe();
        loop {
            let deadline = self.next_deadline();
            let step = tokio::select! {
                message = self.socket.recv() => Step::Message(message),
                () = tokio::time::sleep_until(deadline.into()) => Step::Timer,
                _ = stopping.changed() => Step::Stop,
            };
            let end = match step {
                Step::Message(None | Some(Err(_))) => Some(End::ClientGone),
                Step::Message(Some(Ok(message))) => self.incoming(message).await,
                Step::Timer => self.tick().await,
                Step::Stop => Some(End::Shutdown),
            };
            // A socket fault fires as soon as its turn count is reached.
            if let Some(end) = end.or_else(|| self.socket_fault_due()) {
                return end;
            }
        }
    }

    fn next_deadline(&self) -> Instant {
        [
            Some(self.next_ping),
            Some(self.max_at),
            self.speaking.as_ref().map(Speech::next_due),
            self.queue
                .front()
                .filter(|_| self.speaking.is_none() && self.tool_wait.is_none())
                .map(|p| p.at),
            self.tool_wait.as_ref().map(|t| t.deadline),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.max_at)
    }

    async fn tick(&mut self) -> Option<End> {
        let now = Instant::now();
        if now >= self.max_at {
            return Some(End::MaxDuration);
        }
        if now >= self.next_ping {
            self.next_ping = now + self.shared.timing.ping_interval;
            let id = self.event_id();
            self.pings.insert(id, now);
            // Pings a client never answers are forgotten, not hoarded.
            self.pings
                .retain(|sent_id, _| id - sent_id < UNANSWERED_PINGS_KEPT);
            if self.agent.emits("ping") {
                let ping = events::ping(id, self.last_rtt_ms);
                if let Some(end) = self.send(&ping).await {
                    return Some(end);
                }
            }
        }
        if let Some(end) = self.pace_speech(now).await {
            return Some(end);
        }
        if self.tool_wait.as_ref().is_some_and(|t| now >= t.deadline)
            && let Some(end) = self.tool_result_timed_out().await
        {
            return Some(end);
        }
        let due = self.queue.front().is_some_and(|p| p.at <= now);
        if due
            && self.speaking.is_none()
            && self.tool_wait.is_none()
            && let Some(pending) = self.queue.pop_front()
        {
            return self.respond(pending).await;
        }
        None
    }

    fn socket_fault_due(&mut self) -> Option<End> {
        let (_, after) = self.socket_fault.as_ref()?;
        if self.agent_turns < *after {
            return None;
        }
        match self.socket_fault.take() {
            Some((Fault::DropSocket { .. }, _)) => Some(End::Dropped),
            Some(_) => Some(End::Crash),
            None => None,
        }
    }

    /// Adds a transcript turn, also to the live record, so a REST read
    /// during the call sees the conversation so far.
    pub(super) fn push_turn(&mut self, turn: Value) {
        self.shared
            .records
            .update(&self.conversation_id, |r| r.transcript.push(turn.clone()));
        self.transcript.push(turn);
    }

    pub(super) fn event_id(&mut self) -> u64 {
        let id = self.next_event_id;
        self.next_event_id += 1;
        id
    }

    /// Sends one event; `Some(End::ClientGone)` when the socket is gone.
    pub(super) async fn send(&mut self, event: &Value) -> Option<End> {
        let text = event.to_string();
        match self.socket.send(Message::Text(text.into())).await {
            Ok(()) => None,
            Err(_) => Some(End::ClientGone),
        }
    }

    /// Wall-clock time since the socket opened; simulated speech that
    /// outruns it (fast mode, interruptions) does not count.
    pub(super) fn time_in_call(&self) -> Duration {
        self.opened.elapsed()
    }

    async fn close(&mut self, end: End) -> CallOutcome {
        // The socket's close starts now: our close frame, or the client's
        // that ended the loop, or the drop that did.
        let duration = self.time_in_call();
        let ending = Ending::of(&end, self.agent.max_duration_secs);
        if let Some(event) = &ending.error_event {
            let _ = self.send(event).await;
        }
        let close_code = match (&end, ending.close) {
            (End::ClientClosed { code }, _) => {
                let _ = self.socket.close().await;
                *code
            }
            (_, Some((code, text))) => {
                let frame = CloseFrame {
                    code,
                    reason: text.into(),
                };
                if self.socket.send(Message::Close(Some(frame))).await.is_ok() {
                    drain_close(&mut self.socket).await;
                }
                Some(code)
            }
            (_, None) => None,
        };
        CallOutcome {
            conversation_id: self.conversation_id.clone(),
            duration_secs: pricing::billed_secs(duration),
            transcript: std::mem::take(&mut self.transcript),
            termination_reason: ending.reason,
            close_code,
            error: ending.error,
            has_user_audio: self.has_user_audio,
            has_response_audio: self.has_response_audio,
        }
    }
}

/// Reads until the client's close frame (or the stream ends, or a second).
pub(super) async fn drain_close(socket: &mut WebSocket) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
