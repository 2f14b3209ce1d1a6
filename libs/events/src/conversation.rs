//! Conversation events: facts about one call, on subject `conv.<conversation_id>`.
//!
//! Times inside a call are milliseconds since the call started
//! (`time_in_call_ms`); wall-clock time is only the envelope's `occurred_at`.
//! Raw audio never appears here; counts, durations and latencies do.

use serde::{Deserialize, Serialize};

use crate::credits::Credits;
use crate::envelope::{DomainEvent, EventTypes};
use crate::error::DecodeError;

/// Everything that can happen to a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ConversationEvent {
    #[serde(rename = "conversation.requested")]
    Requested(Requested),
    #[serde(rename = "conversation.started")]
    Started(Started),
    #[serde(rename = "conversation.user_message")]
    UserMessage(UserMessage),
    #[serde(rename = "conversation.agent_message")]
    AgentMessage(AgentMessage),
    #[serde(rename = "conversation.agent_message_corrected")]
    AgentMessageCorrected(AgentMessageCorrected),
    #[serde(rename = "conversation.interrupted")]
    Interrupted(Interrupted),
    #[serde(rename = "conversation.tool_called")]
    ToolCalled(ToolCalled),
    #[serde(rename = "conversation.ended")]
    Ended(Ended),
    #[serde(rename = "conversation.failed")]
    Failed(Failed),
    #[serde(rename = "conversation.transcript_submitted")]
    TranscriptSubmitted(TranscriptSubmitted),
    #[serde(rename = "conversation.cost_reported")]
    CostReported(CostReported),
    #[serde(rename = "conversation.analysis_reported")]
    AnalysisReported(AnalysisReported),
}

/// How the conversation reaches ElevenLabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationMode {
    /// Relayed live through gateway and session.
    Live,
    /// Held by the client directly with ElevenLabs; the transcript is submitted after.
    ClientSide,
}

/// A user asked for a conversation; credits are held against it next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Requested {
    pub mode: ConversationMode,
    /// The session-service instance that owns the live call, so a restarted
    /// instance can close what it owned (`session_lost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// ElevenLabs accepted the call (its `conversation_initiation_metadata`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Started {
    pub elevenlabs_conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_input_audio_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_output_audio_format: Option<String>,
    /// A chat with no audio (`conversation.text_only` in the client's
    /// overrides): billed per message rather than per minute.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub text_only: bool,
}

/// The user said something (ElevenLabs' final `user_transcript`, or a typed message).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserMessage {
    pub text: String,
    pub time_in_call_ms: u64,
}

/// The agent said something.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentMessage {
    pub text: String,
    pub time_in_call_ms: u64,
    /// From the user's transcript to the agent's first response of the turn;
    /// absent for turns the user did not prompt (the first message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// ElevenLabs' `event_id` of the turn, to match later corrections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u64>,
}

/// ElevenLabs truncated an agent message after a barge-in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentMessageCorrected {
    pub original: String,
    pub corrected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u64>,
    pub time_in_call_ms: u64,
}

/// The user talked over the agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interrupted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u64>,
    pub time_in_call_ms: u64,
}

/// The agent called a client tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCalled {
    pub tool_call_id: String,
    pub tool_name: String,
    #[serde(default)]
    pub parameters: serde_json::Value,
    pub time_in_call_ms: u64,
}

/// Why a call ended normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The agent called `end_call`.
    AgentEnded,
    /// The user closed the conversation.
    UserEnded,
    /// The client's socket went away without a close.
    ClientDisconnected,
    MaxDurationExceeded,
    InactivityTimeout,
    /// The user could not cover the hold's next extension (DESIGN §4).
    CreditsExhausted,
}

/// The call is over; `duration_ms` is what the estimate charge is based on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    pub reason: EndReason,
    pub duration_ms: u64,
    /// The WebSocket close code that ended it, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_code: Option<u16>,
}

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// ElevenLabs closed with an error (1011 and friends) or dropped the socket.
    UpstreamError,
    /// ElevenLabs could not be reached or refused the call.
    UpstreamUnavailable,
    /// The session instance owning the call died before it ended.
    SessionLost,
    /// Ledger, policy or ElevenLabs refused to start it.
    Refused,
    /// A side broke the protocol.
    ProtocolError,
    /// The client went past one of a call's bounds (frame size, message
    /// rate, messages or events per call).
    LimitExceeded,
    /// The event log stayed unavailable longer than a call may wait for it.
    LogUnavailable,
}

/// The call ended abnormally.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failed {
    pub reason: FailureReason,
    pub message: String,
    pub duration_ms: u64,
}

/// Who said a line of a transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Agent,
}

/// One line of a submitted transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub role: Role,
    pub text: String,
    pub time_in_call_ms: u64,
}

/// A client-side conversation's transcript, submitted after the call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptSubmitted {
    pub elevenlabs_conversation_id: Option<String>,
    pub messages: Vec<TranscriptLine>,
    pub duration_ms: u64,
    /// The client's `metrics` as submitted (the seed's `ConversationMetrics`);
    /// boxed, as is `metadata`, to keep every event small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Box<serde_json::Value>>,
    /// The client's `metadata` as submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Box<serde_json::Value>>,
    /// The client's word for how the call went (e.g. `done`), as submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// ElevenLabs' own figure for the call, read after it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostReported {
    pub elevenlabs_conversation_id: String,
    pub credits: Credits,
    pub call_duration_ms: u64,
    /// ElevenLabs' `charging` block as reported, kept for finance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging: Option<serde_json::Value>,
}

/// ElevenLabs' post-call analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalysisReported {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_successful: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<String>,
    /// The whole `analysis` object, for fields Parlor does not model yet.
    #[serde(default)]
    pub analysis: serde_json::Value,
}

const TYPES: EventTypes = &[
    ("conversation.requested", 1),
    ("conversation.started", 1),
    ("conversation.user_message", 1),
    ("conversation.agent_message", 1),
    ("conversation.agent_message_corrected", 1),
    ("conversation.interrupted", 1),
    ("conversation.tool_called", 1),
    // Schema 1 carried whole seconds (`duration_secs`); see `upcast`.
    ("conversation.ended", 2),
    ("conversation.failed", 1),
    ("conversation.transcript_submitted", 1),
    ("conversation.cost_reported", 1),
    ("conversation.analysis_reported", 1),
];

impl ConversationEvent {
    /// True once the call is over (ended or failed): no more live events follow.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Ended(_) | Self::Failed(_))
    }
}

impl DomainEvent for ConversationEvent {
    fn types() -> EventTypes {
        TYPES
    }

    fn from_data(
        event_type: &str,
        schema: u32,
        data: serde_json::Value,
    ) -> Result<Self, DecodeError> {
        crate::envelope::decode_adjacent(TYPES, event_type, schema, data)
    }

    fn from_json_data(
        event_type: &str,
        schema: u32,
        data: &serde_json::value::RawValue,
    ) -> Result<Self, DecodeError> {
        crate::envelope::decode_adjacent_json(TYPES, event_type, schema, data)
    }
}
