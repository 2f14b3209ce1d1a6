//! `conversation_initiation_client_data` (§1.2.1): the first client message,
//! carrying overrides, dynamic variables and the end-user id. Each level keeps
//! fields it does not know in `extra`, so a proxy can pass them on unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationInitiationClientData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_config_override: Option<ConfigOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_llm_extra_body: Option<Value>,
    /// Values are strings, numbers or booleans; `system__` names are reserved.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dynamic_variables: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_info: Option<SourceInfo>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Overrides, each allowed only if the agent's security settings enable it;
/// a field that is not allowed makes the server close with 1008.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts: Option<TtsOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asr: Option<AsrOverride>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<PromptOverride>,
    /// An empty string makes the agent wait for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_mcp_server_ids: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TtsOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity_boost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_only: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AsrOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How the client identifies itself (`python_sdk`, `js_sdk`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
