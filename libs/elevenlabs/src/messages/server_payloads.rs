//! Bodies of the server → client events (§1.3), one struct per payload key.
//! Fields that older servers omit are `Option` or default; unknown fields are
//! ignored.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `<pcm|ulaw>_<rate>`, e.g. `pcm_16000`; kept as sent so new formats parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AudioFormat(pub String);

impl AudioFormat {
    /// `pcm` or `ulaw`, if the format has the documented shape.
    pub fn encoding(&self) -> Option<&str> {
        self.0.split_once('_').map(|(encoding, _)| encoding)
    }

    pub fn sample_rate_hz(&self) -> Option<u32> {
        self.0
            .split_once('_')
            .and_then(|(_, rate)| rate.parse().ok())
    }
}

/// `conversation_initiation_metadata_event`: always the first server message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitiationMetadata {
    pub conversation_id: String,
    pub agent_output_audio_format: AudioFormat,
    pub user_input_audio_format: AudioFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    #[serde(default)]
    pub chars: Vec<String>,
    #[serde(default)]
    pub char_start_times_ms: Vec<f64>,
    #[serde(default)]
    pub char_durations_ms: Vec<f64>,
}

/// `audio_event`: one chunk of agent speech, sharing its turn's `event_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioChunk {
    pub audio_base_64: String,
    #[serde(default)]
    pub event_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alignment: Option<Alignment>,
}

impl AudioChunk {
    /// The raw audio bytes in `agent_output_audio_format`.
    pub fn decode(&self) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(&self.audio_base_64)
    }
}

/// `agent_response_event`: the full text of one agent turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentResponse {
    pub agent_response: String,
    #[serde(default)]
    pub event_id: Option<u64>,
}

/// `agent_response_correction_event`: the turn as truncated by an interruption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentResponseCorrection {
    pub original_agent_response: String,
    pub corrected_agent_response: String,
    #[serde(default)]
    pub event_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartKind {
    Start,
    Delta,
    Stop,
    #[serde(other)]
    Unknown,
}

/// `text_response_part`: streamed agent text (text-only mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentChatResponsePart {
    #[serde(default)]
    pub text: String,
    #[serde(rename = "type")]
    pub kind: PartKind,
    #[serde(default)]
    pub event_id: Option<u64>,
}

/// `reasoning_response_part` (experimental; its `event_id` is a string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReasoningResponsePart {
    #[serde(default)]
    pub text: String,
    #[serde(rename = "type")]
    pub kind: PartKind,
    #[serde(default)]
    pub event_id: Option<Value>,
}

/// `user_transcription_event` and `tentative_user_transcription_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTranscript {
    pub user_transcript: String,
    #[serde(default)]
    pub event_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalTentativeAgentResponse {
    pub tentative_agent_response: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TurnProbability {
    pub turn_probability: f64,
}

/// `interruption_event`: drop agent audio of this turn and earlier.
/// One old doc page gives `{reason}` instead of `{event_id}`; both parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interruption {
    #[serde(default)]
    pub event_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `ping_event`; `ping_ms` is the server's RTT estimate, null at first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    pub event_id: u64,
    #[serde(default)]
    pub ping_ms: Option<u64>,
}

/// `client_tool_call`: answer with a `client_tool_result` of the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientToolCall {
    pub tool_name: String,
    pub tool_call_id: String,
    #[serde(default)]
    pub parameters: Value,
    #[serde(default)]
    pub event_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentToolRequest {
    pub tool_name: String,
    #[serde(default)]
    pub tool_call_id: String,
    #[serde(default)]
    pub tool_type: Option<String>,
    #[serde(default)]
    pub event_id: Option<u64>,
}

/// A tool ran; `tool_name == "end_call"` means the agent is hanging up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentToolResponse {
    pub tool_name: String,
    #[serde(default)]
    pub tool_call_id: String,
    #[serde(default)]
    pub tool_type: Option<String>,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub is_called: Option<bool>,
    #[serde(default)]
    pub event_id: Option<u64>,
}

/// `agent_tool_response` plus the tool's full result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentToolResponseFullPayload {
    #[serde(flatten)]
    pub response: AgentToolResponse,
    #[serde(default)]
    pub full_tool_result: Value,
    #[serde(default)]
    pub is_blocked: Option<bool>,
    #[serde(default)]
    pub truncated: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolCall {
    #[serde(default)]
    pub service_id: String,
    pub tool_call_id: String,
    pub tool_name: String,
    #[serde(default)]
    pub tool_description: Option<String>,
    #[serde(default)]
    pub parameters: Value,
    #[serde(default)]
    pub timestamp: Option<String>,
    /// `loading`, `awaiting_approval`, `success` or `failure`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub approval_timeout_secs: Option<u64>,
    #[serde(default)]
    pub result: Option<Vec<Value>>,
    #[serde(default)]
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpIntegration {
    pub integration_id: String,
    #[serde(default)]
    pub integration_type: Option<String>,
    #[serde(default)]
    pub is_connected: bool,
    #[serde(default)]
    pub tool_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpConnectionStatus {
    #[serde(default)]
    pub integrations: Vec<McpIntegration>,
}

/// Probability (0–1) that the user is speaking.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VadScore {
    pub vad_score: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextUsage {
    #[serde(default)]
    pub event_id: Option<u64>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub context_tokens: Option<u64>,
    #[serde(default)]
    pub context_limit_tokens: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RichContent {
    #[serde(default)]
    pub rich_content_id: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub props: Value,
    #[serde(default)]
    pub event_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTyping {
    #[serde(default)]
    pub is_typing: bool,
    #[serde(default)]
    pub duration_ms: Option<u64>,
}

/// `error_event`: sent just before the server closes because of an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorEvent {
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}
