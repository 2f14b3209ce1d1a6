//! Server → client events (§1.3): `{"type": "<t>", "<payload key>": {…}}`.
//! The whole object is read first and dispatched on `type`, so the real
//! server's habit of putting `type` last (§1.1) is no problem.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::body;
use super::server_payloads::*;
use crate::error::ParseError;

macro_rules! server_events {
    ($($variant:ident($body:ty) = $tag:literal / $key:literal,)*) => {
        /// One server → client event.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ServerEvent {
            $($variant($body),)*
            /// `guardrail_triggered`, which has no payload.
            GuardrailTriggered,
            /// An event this crate does not model, kept whole.
            Other(Value),
        }

        impl ServerEvent {
            /// The `type` string, if any.
            pub fn event_type(&self) -> Option<&str> {
                match self {
                    $(Self::$variant(_) => Some($tag),)*
                    Self::GuardrailTriggered => Some("guardrail_triggered"),
                    Self::Other(raw) => raw.get("type").and_then(Value::as_str),
                }
            }

            /// The event as the server sends it.
            pub fn to_value(&self) -> Value {
                match self {
                    $(Self::$variant(body) => envelope($tag, $key, body),)*
                    Self::GuardrailTriggered => envelope("guardrail_triggered", "", &()),
                    Self::Other(raw) => raw.clone(),
                }
            }

            /// Parses one event; unknown types become [`ServerEvent::Other`].
            /// A known type whose payload lacks required fields is an error.
            pub fn from_value(value: Value) -> Result<Self, ParseError> {
                let Value::Object(mut object) = value else {
                    return Err(ParseError::NotAnObject);
                };
                let tag = object.get("type").and_then(Value::as_str).map(str::to_owned);
                match tag.as_deref() {
                    $(Some($tag) => body($tag, payload(&mut object, $key)).map(Self::$variant),)*
                    Some("guardrail_triggered") => Ok(Self::GuardrailTriggered),
                    _ => Ok(Self::Other(Value::Object(object))),
                }
            }
        }
    };
}

server_events! {
    ConversationInitiationMetadata(InitiationMetadata) =
        "conversation_initiation_metadata" / "conversation_initiation_metadata_event",
    AsrInitiationMetadata(Value) = "asr_initiation_metadata" / "asr_initiation_metadata_event",
    Audio(AudioChunk) = "audio" / "audio_event",
    AgentResponse(AgentResponse) = "agent_response" / "agent_response_event",
    AgentResponseCorrection(AgentResponseCorrection) =
        "agent_response_correction" / "agent_response_correction_event",
    AgentChatResponsePart(AgentChatResponsePart) =
        "agent_chat_response_part" / "text_response_part",
    AgentReasoningResponsePart(AgentReasoningResponsePart) =
        "agent_reasoning_response_part" / "reasoning_response_part",
    UserTranscript(UserTranscript) = "user_transcript" / "user_transcription_event",
    TentativeUserTranscript(UserTranscript) =
        "tentative_user_transcript" / "tentative_user_transcription_event",
    InternalTentativeAgentResponse(InternalTentativeAgentResponse) =
        "internal_tentative_agent_response" / "tentative_agent_response_internal_event",
    InternalTurnProbability(TurnProbability) =
        "internal_turn_probability" / "turn_probability_internal_event",
    Interruption(Interruption) = "interruption" / "interruption_event",
    Ping(Ping) = "ping" / "ping_event",
    ClientToolCall(ClientToolCall) = "client_tool_call" / "client_tool_call",
    AgentToolRequest(AgentToolRequest) = "agent_tool_request" / "agent_tool_request",
    AgentToolResponse(AgentToolResponse) = "agent_tool_response" / "agent_tool_response",
    AgentToolResponseFullPayload(AgentToolResponseFullPayload) =
        "agent_tool_response_full_payload" / "agent_tool_response_full_payload",
    McpToolCall(McpToolCall) = "mcp_tool_call" / "mcp_tool_call",
    McpConnectionStatus(McpConnectionStatus) = "mcp_connection_status" / "mcp_connection_status",
    VadScore(VadScore) = "vad_score" / "vad_score_event",
    ContextUsage(ContextUsage) = "context_usage" / "context_usage_event",
    RichContent(RichContent) = "rich_content" / "rich_content",
    AgentTyping(AgentTyping) = "agent_typing" / "agent_typing_event",
    ExternalAgentConnected(Value) =
        "external_agent_connected" / "external_agent_connected_event",
    ExternalAgentDisconnected(Value) =
        "external_agent_disconnected" / "external_agent_disconnected_event",
    Error(ErrorEvent) = "error" / "error_event",
}

/// The payload under `key`; a missing payload reads as `{}` so events whose
/// fields are all optional still parse.
fn payload(object: &mut Map<String, Value>, key: &str) -> Value {
    object
        .remove(key)
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// `{"type": tag, key: body}`, or just `{"type": tag}` when `key` is empty.
fn envelope(tag: &str, key: &str, body: &impl Serialize) -> Value {
    let mut object = Map::new();
    object.insert("type".to_owned(), Value::String(tag.to_owned()));
    if !key.is_empty() {
        // Payloads are plain structs with string keys: serialisation cannot fail.
        let payload = serde_json::to_value(body).unwrap_or(Value::Null);
        object.insert(key.to_owned(), payload);
    }
    Value::Object(object)
}

impl ServerEvent {
    /// Parses a text frame.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        super::parse_object(text).and_then(|object| Self::from_value(Value::Object(object)))
    }

    /// The text frame as the server would send it.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// The agent announced it is hanging up (`end_call` tool response).
    pub fn is_end_call(&self) -> bool {
        match self {
            Self::AgentToolResponse(response) => response.tool_name == "end_call",
            Self::AgentToolResponseFullPayload(full) => full.response.tool_name == "end_call",
            _ => false,
        }
    }
}

impl Serialize for ServerEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ServerEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}
