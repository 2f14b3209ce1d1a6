//! The opening of a conversation (§1.1 "Opening sequence", §1.2.1): the
//! optional `conversation_initiation_client_data`, its overrides checked
//! against the agent's allow-list, and `{{dynamic variables}}`.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use serde_json::{Map, Value};

use crate::agent::AgentConfig;

/// What the client asked for at the start.
#[derive(Debug, Default)]
pub(crate) struct Initiation {
    /// The whole message (echoed in the record), `{}` when none came.
    pub(crate) raw: Value,
    /// The first message that was *not* initiation data, to handle after
    /// the metadata.
    pub(crate) deferred: Option<Message>,
}

impl Initiation {
    fn field(&self, path: &[&str]) -> Option<&Value> {
        path.iter()
            .try_fold(&self.raw, |v, key| v.get(key))
            .filter(|v| !v.is_null())
    }

    pub(crate) fn overrides(&self) -> Option<&Value> {
        self.field(&["conversation_config_override"])
    }

    pub(crate) fn user_id(&self) -> Option<String> {
        self.field(&["user_id"])
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    pub(crate) fn source(&self) -> (Option<String>, Option<String>) {
        let get = |k| {
            self.field(&["source_info", k])
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        (get("source"), get("version"))
    }

    /// The agent's first message after overrides, `None` when the agent
    /// waits for the user.
    pub(crate) fn first_message(&self, agent: &AgentConfig) -> Option<String> {
        let text = match self.field(&["conversation_config_override", "agent", "first_message"]) {
            Some(v) => v.as_str().map(str::to_owned),
            None => agent.first_message.clone(),
        };
        text.filter(|t| !t.is_empty())
    }

    pub(crate) fn text_only(&self, agent: &AgentConfig) -> bool {
        self.field(&["conversation_config_override", "conversation", "text_only"])
            .and_then(Value::as_bool)
            .unwrap_or(agent.text_only)
    }

    pub(crate) fn dynamic_variables(&self) -> Map<String, Value> {
        self.field(&["dynamic_variables"])
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

/// Waits up to `wait` for the first client message.
/// `None` when the client went away first.
pub(crate) async fn receive(socket: &mut WebSocket, wait: Duration) -> Option<Initiation> {
    let first = match tokio::time::timeout(wait, socket.recv()).await {
        Err(_) => return Some(Initiation::default()),
        Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return None,
        Ok(Some(Ok(message))) => message,
    };
    if let Message::Text(text) = &first
        && let Ok(value) = serde_json::from_str::<Value>(text.as_str())
        && value.get("type").and_then(Value::as_str) == Some("conversation_initiation_client_data")
    {
        return Some(Initiation {
            raw: value,
            deferred: None,
        });
    }
    Some(Initiation {
        raw: Value::Object(Map::new()),
        deferred: Some(first),
    })
}

/// The override paths §1.2.1 documents. Only these are checked against the
/// agent's allow-list; anything else is ignored, as the real service ignores
/// the Python SDK 2.x's `conversation_config_override.text_only`.
const DOCUMENTED_OVERRIDES: &[&str] = &[
    "agent.prompt.prompt",
    "agent.prompt.llm",
    "agent.first_message",
    "agent.language",
    "agent.native_mcp_server_ids",
    "tts.voice_id",
    "tts.stability",
    "tts.similarity_boost",
    "tts.speed",
    "asr.keywords",
    "conversation.text_only",
];

/// The first documented override (dotted path) that is set and that the
/// agent does not allow. Null values and empty objects override nothing,
/// so they pass (§1.2.1).
pub(crate) fn disallowed_override(agent: &AgentConfig, overrides: &Value) -> Option<&'static str> {
    DOCUMENTED_OVERRIDES.iter().copied().find(|path| {
        let set = path
            .split('.')
            .try_fold(overrides, |v, key| v.get(key))
            .is_some_and(|v| !v.is_null());
        set && !agent
            .allowed_overrides
            .iter()
            .any(|allowed| path == allowed || path.starts_with(&format!("{allowed}.")))
    })
}

/// Replaces `{{name}}` with `variables[name]`; `Err(name)` for a missing one.
pub(crate) fn fill_variables(text: &str, variables: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        let name = rest[start + 2..start + 2 + len].trim();
        let value = match variables.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => return Err(name.to_owned()),
            Some(other) => other.to_string(),
        };
        out.push_str(&rest[..start]);
        out.push_str(&value);
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn empty_and_null_overrides_pass_and_unlisted_fields_fail() {
        let mut agent = AgentConfig::default();
        let empty = json!({"tts": {}, "conversation": {}, "agent": {"language": null}});
        assert_eq!(disallowed_override(&agent, &empty), None);
        let set = json!({"agent": {"first_message": "Yo", "prompt": {"prompt": "p"}}});
        assert_eq!(
            disallowed_override(&agent, &set),
            Some("agent.prompt.prompt")
        );
        agent.allowed_overrides = vec!["agent.first_message".into(), "agent.prompt".into()];
        assert_eq!(disallowed_override(&agent, &set), None);
    }

    #[test]
    fn unknown_keys_are_ignored_at_any_depth() {
        let agent = AgentConfig::default();
        // The Python SDK 2.x's text-only spelling, and keys no doc names.
        let unknown = json!({
            "text_only": true,
            "agent": {"mood": "cheerful", "prompt": {"temperature": 0.2}},
            "tts": {"pitch": 3},
            "future_section": {"anything": [1, 2]},
        });
        assert_eq!(disallowed_override(&agent, &unknown), None);
        let mixed = json!({"text_only": true, "tts": {"voice_id": "v1", "pitch": 3}});
        assert_eq!(disallowed_override(&agent, &mixed), Some("tts.voice_id"));
    }

    #[test]
    fn variables_fill_or_name_the_missing_one() {
        let vars = json!({"user_name": "Ada", "n": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            fill_variables("Hi {{user_name}} #{{ n }}", &vars),
            Ok("Hi Ada #3".into())
        );
        assert_eq!(fill_variables("Hi {{who}}", &vars), Err("who".into()));
        assert_eq!(fill_variables("plain {{", &vars), Ok("plain {{".into()));
    }
}
