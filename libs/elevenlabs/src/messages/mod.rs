//! The conversation protocol's JSON messages (§1.2 client→server, §1.3
//! server→client). Parsing reads the whole object first and dispatches on
//! `type`, so key order never matters; unknown `type`s are kept as `Other`
//! and unknown fields are ignored (or kept, where a caller echoes them).

mod client;
mod initiation;
mod server;
mod server_payloads;

pub use client::{
    ClientMessage, ClientToolResult, ContextualUpdate, Feedback, FeedbackScore, FileInput,
    McpToolApprovalResult, MultimodalMessage, MultimodalText, Pong, UserAudioChunk, UserMessage,
};
pub use initiation::{
    AgentOverride, AsrOverride, ConfigOverride, ConversationInitiationClientData,
    ConversationOverride, PromptOverride, SourceInfo, TtsOverride,
};
pub use server::ServerEvent;
pub use server_payloads::{
    AgentChatResponsePart, AgentReasoningResponsePart, AgentResponse, AgentResponseCorrection,
    AgentToolRequest, AgentToolResponse, AgentToolResponseFullPayload, AgentTyping, Alignment,
    AudioChunk, AudioFormat, ClientToolCall, ContextUsage, ErrorEvent, InitiationMetadata,
    InternalTentativeAgentResponse, Interruption, McpConnectionStatus, McpIntegration, McpToolCall,
    PartKind, Ping, RichContent, TurnProbability, UserTranscript, VadScore,
};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ParseError;

/// Parses text into a JSON object, the first step of every message parse.
fn parse_object(text: &str) -> Result<Map<String, Value>, ParseError> {
    match serde_json::from_str::<Value>(text).map_err(ParseError::Json)? {
        Value::Object(object) => Ok(object),
        _ => Err(ParseError::NotAnObject),
    }
}

/// Deserialises one message body, naming the message type on failure.
fn body<T: DeserializeOwned>(message_type: &str, value: Value) -> Result<T, ParseError> {
    serde_json::from_value(value).map_err(|source| ParseError::Body {
        message_type: message_type.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;
