//! REST bodies (§2.2, §2.3): the conversation list page and the full
//! conversation record, also the `data` of a `post_call_transcription`
//! webhook. Optional fields default, unknown fields are ignored, enums keep
//! unknown strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A string enum that keeps values it does not know.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($variant,)*
            Other(String),
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match text.as_str() {
                    $($text => Self::$variant,)*
                    _ => Self::Other(text),
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $($name::$variant => $text.to_owned(),)*
                    $name::Other(text) => text,
                }
            }
        }
    };
}

string_enum! {
    /// Where a conversation record is in its life.
    ConversationStatus {
        Initiated = "initiated",
        InProgress = "in-progress",
        Processing = "processing",
        Done = "done",
        Failed = "failed",
    }
}

impl ConversationStatus {
    /// `done` or `failed`: the record will not change any more.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

string_enum! {
    /// `success`, `failure` or `unknown` (call success and criteria results).
    Outcome {
        Success = "success",
        Failure = "failure",
        Unknown = "unknown",
    }
}

string_enum! {
    Role {
        User = "user",
        Agent = "agent",
    }
}

/// Integers that may arrive as floats (`12.0`): durations, costs, offsets.
fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(optional_int(deserializer)?.unwrap_or_default())
}

fn optional_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<serde_json::Number>::deserialize(deserializer)?;
    Ok(value.and_then(|number| {
        number
            .as_i64()
            .or_else(|| number.as_f64().map(|float| float.round() as i64))
    }))
}

/// One item of `GET /v1/convai/conversations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub agent_id: String,
    #[serde(default)]
    pub agent_name: Option<String>,
    pub conversation_id: String,
    #[serde(default, deserialize_with = "int")]
    pub start_time_unix_secs: i64,
    #[serde(default, deserialize_with = "int")]
    pub call_duration_secs: i64,
    #[serde(default, deserialize_with = "int")]
    pub message_count: i64,
    pub status: ConversationStatus,
    #[serde(default)]
    pub call_successful: Option<Outcome>,
    #[serde(default)]
    pub transcript_summary: Option<String>,
    #[serde(default)]
    pub call_summary_title: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub termination_reason: Option<String>,
}

/// `{"conversations":[…],"next_cursor":…,"has_more":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPage {
    #[serde(default)]
    pub conversations: Vec<ConversationSummary>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_more: bool,
}

/// `GET /v1/convai/conversations/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetails {
    pub agent_id: String,
    pub conversation_id: String,
    pub status: ConversationStatus,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub transcript: Vec<TranscriptTurn>,
    #[serde(default)]
    pub metadata: ConversationMetadata,
    /// `None` until post-call analysis is done.
    #[serde(default)]
    pub analysis: Option<Analysis>,
    #[serde(default)]
    pub conversation_initiation_client_data: Option<Value>,
    #[serde(default)]
    pub has_audio: bool,
    #[serde(default)]
    pub has_user_audio: bool,
    #[serde(default)]
    pub has_response_audio: bool,
    #[serde(default)]
    pub agent_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptTurn {
    pub role: Role,
    /// `None` e.g. for a turn that only calls a tool.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "int")]
    pub time_in_call_secs: i64,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default)]
    pub tool_results: Vec<ToolResult>,
    #[serde(default)]
    pub interrupted: bool,
    /// The text before an interruption truncated it.
    #[serde(default)]
    pub original_message: Option<String>,
    #[serde(default)]
    pub source_medium: Option<String>,
    #[serde(default)]
    pub feedback: Option<Value>,
    /// `{metrics:{name:{elapsed_time}}}` or the names directly (§7): kept raw.
    #[serde(default)]
    pub conversation_turn_metrics: Option<Value>,
    #[serde(default)]
    pub llm_usage: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// `system`, `webhook`, `client`, `mcp` or `workflow`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub request_id: String,
    pub tool_name: String,
    #[serde(default)]
    pub params_as_json: Option<String>,
    #[serde(default)]
    pub tool_has_been_called: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    #[serde(default)]
    pub request_id: String,
    pub tool_name: String,
    #[serde(default)]
    pub result_value: Option<String>,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub tool_has_been_called: bool,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationMetadata {
    #[serde(default, deserialize_with = "int")]
    pub start_time_unix_secs: i64,
    #[serde(default, deserialize_with = "optional_int")]
    pub accepted_time_unix_secs: Option<i64>,
    #[serde(default, deserialize_with = "int")]
    pub call_duration_secs: i64,
    /// Credits charged for the call (inferred unit, §2.3).
    #[serde(default, deserialize_with = "optional_int")]
    pub cost: Option<i64>,
    #[serde(default)]
    pub charging: Option<Charging>,
    #[serde(default)]
    pub termination_reason: String,
    /// The close code and reason.
    #[serde(default)]
    pub error: Option<CallError>,
    #[serde(default)]
    pub authorization_method: Option<String>,
    #[serde(default)]
    pub text_only: bool,
    #[serde(default)]
    pub main_language: Option<String>,
    #[serde(default)]
    pub conversation_initiation_source: Option<String>,
    #[serde(default)]
    pub feedback: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    #[serde(default, deserialize_with = "int")]
    pub code: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `metadata.charging`; units are inferred (credits as integers, USD as floats).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Charging {
    #[serde(default)]
    pub dev_discount: bool,
    #[serde(default)]
    pub is_burst: bool,
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub llm_price: Option<f64>,
    #[serde(default, deserialize_with = "optional_int")]
    pub llm_charge: Option<i64>,
    #[serde(default, deserialize_with = "optional_int")]
    pub call_charge: Option<i64>,
    #[serde(default)]
    pub llm_usage: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub call_successful: Outcome,
    #[serde(default)]
    pub transcript_summary: String,
    #[serde(default)]
    pub call_summary_title: Option<String>,
    #[serde(default)]
    pub evaluation_criteria_results: BTreeMap<String, CriterionResult>,
    #[serde(default)]
    pub data_collection_results: BTreeMap<String, DataCollectionResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionResult {
    #[serde(default)]
    pub criteria_id: String,
    pub result: Outcome,
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataCollectionResult {
    #[serde(default)]
    pub data_collection_id: String,
    #[serde(default)]
    pub value: Value,
    #[serde(default)]
    pub rationale: Option<String>,
}
