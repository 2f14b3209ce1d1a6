//! Client → server messages (§1.2). Every message but the audio chunk carries
//! `type`; bodies sit next to it at the top level.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ConversationInitiationClientData, body};
use crate::error::ParseError;

/// `{"user_audio_chunk":"<base64>"}`: audio in the metadata's input format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAudioChunk {
    pub user_audio_chunk: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    pub event_id: u64,
}

/// The answer to a `client_tool_call`; `result` is always a string on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientToolResult {
    pub tool_call_id: String,
    pub result: String,
    #[serde(default)]
    pub is_error: bool,
}

/// Non-interrupting context; only the latest update per `context_id` is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextualUpdate {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
}

/// Text treated as if the user had spoken it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMessage {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rich_content_id: Option<String>,
}

/// Resets the turn timeout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserActivity {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackScore {
    Like,
    Dislike,
}

/// A rating of the agent response with `event_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    #[serde(default)]
    pub score: Option<FeedbackScore>,
    pub event_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpToolApprovalResult {
    pub tool_call_id: String,
    pub is_approved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultimodalText {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub file_id: String,
}

/// Text plus an uploaded file (`POST /v1/convai/conversations/{id}/files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultimodalMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<MultimodalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInput>,
}

impl MultimodalMessage {
    pub fn new(text: Option<String>, file_id: Option<String>) -> Self {
        Self {
            text: text.map(|text| MultimodalText {
                kind: "user_message".to_owned(),
                text: Some(text),
            }),
            file: file_id.map(|file_id| FileInput {
                kind: "file_input".to_owned(),
                file_id,
            }),
        }
    }
}

macro_rules! client_messages {
    ($($variant:ident($body:ty) = $tag:literal,)*) => {
        /// One client → server message.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ClientMessage {
            UserAudioChunk(UserAudioChunk),
            $($variant($body),)*
            /// A message this crate does not model, kept whole.
            Other(Value),
        }

        impl ClientMessage {
            /// The `type` string; `None` for the audio chunk.
            pub fn message_type(&self) -> Option<&str> {
                match self {
                    Self::UserAudioChunk(_) => None,
                    $(Self::$variant(_) => Some($tag),)*
                    Self::Other(raw) => raw.get("type").and_then(Value::as_str),
                }
            }

            /// The message as the JSON the server expects.
            pub fn to_value(&self) -> Value {
                match self {
                    Self::UserAudioChunk(chunk) => json!({ "user_audio_chunk": chunk.user_audio_chunk }),
                    $(Self::$variant(body) => tagged($tag, body),)*
                    Self::Other(raw) => raw.clone(),
                }
            }

            /// Parses one message; unknown types become [`ClientMessage::Other`].
            pub fn from_value(value: Value) -> Result<Self, ParseError> {
                let Value::Object(mut object) = value else {
                    return Err(ParseError::NotAnObject);
                };
                let tag = object.get("type").and_then(Value::as_str).map(str::to_owned);
                match tag.as_deref() {
                    None if object.contains_key("user_audio_chunk") => {
                        body("user_audio_chunk", Value::Object(object)).map(Self::UserAudioChunk)
                    }
                    $(Some($tag) => {
                        object.remove("type");
                        body($tag, Value::Object(object)).map(Self::$variant)
                    })*
                    _ => Ok(Self::Other(Value::Object(object))),
                }
            }
        }
    };
}

client_messages! {
    Pong(Pong) = "pong",
    ConversationInitiationClientData(Box<ConversationInitiationClientData>) = "conversation_initiation_client_data",
    ClientToolResult(ClientToolResult) = "client_tool_result",
    ContextualUpdate(ContextualUpdate) = "contextual_update",
    UserMessage(UserMessage) = "user_message",
    UserActivity(UserActivity) = "user_activity",
    Feedback(Feedback) = "feedback",
    McpToolApprovalResult(McpToolApprovalResult) = "mcp_tool_approval_result",
    MultimodalMessage(MultimodalMessage) = "multimodal_message",
}

/// The body serialised with `type` added. Bodies are plain structs with
/// string keys, so serialisation cannot fail; a non-object would be a bug.
fn tagged(tag: &str, body: &impl Serialize) -> Value {
    let mut object = match serde_json::to_value(body) {
        Ok(Value::Object(object)) => object,
        _ => Map::new(),
    };
    object.insert("type".to_owned(), Value::String(tag.to_owned()));
    Value::Object(object)
}

impl ClientMessage {
    /// Parses a text frame.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        super::parse_object(text).and_then(|object| Self::from_value(Value::Object(object)))
    }

    /// The text frame to send.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Raw audio bytes (in `user_input_audio_format`), base64-encoded.
    pub fn user_audio(bytes: &[u8]) -> Self {
        Self::UserAudioChunk(UserAudioChunk {
            user_audio_chunk: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }

    pub fn pong(event_id: u64) -> Self {
        Self::Pong(Pong { event_id })
    }

    pub fn user_message(text: impl Into<String>) -> Self {
        Self::UserMessage(UserMessage {
            text: Some(text.into()),
            rich_content_id: None,
        })
    }

    pub fn contextual_update(text: impl Into<String>) -> Self {
        Self::ContextualUpdate(ContextualUpdate {
            text: text.into(),
            context_id: None,
        })
    }

    pub fn tool_result(
        tool_call_id: impl Into<String>,
        result: impl Into<String>,
        is_error: bool,
    ) -> Self {
        Self::ClientToolResult(ClientToolResult {
            tool_call_id: tool_call_id.into(),
            result: result.into(),
            is_error,
        })
    }

    pub fn user_activity() -> Self {
        Self::UserActivity(UserActivity {})
    }
}

impl Serialize for ClientMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ClientMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}
