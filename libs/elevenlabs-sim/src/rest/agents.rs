//! Agents (§2.1, §2.4): list, details, create and delete.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{ApiError, SharedState, agent_not_found, authorize};
use crate::agent::AgentConfig;
use crate::state::{Shared, new_id};

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/convai/agents", get(list_agents))
        .route("/v1/convai/agents/create", post(create_agent))
        .route(
            "/v1/convai/agents/{id}",
            get(get_agent).delete(delete_agent),
        )
}

async fn list_agents(
    State(shared): SharedState,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let agents: Vec<Value> = shared
        .agents()
        .iter()
        .map(|a| {
            json!({
                "agent_id": a.agent_id,
                "name": a.name,
                "tags": [],
                "created_at_unix_secs": 0,
                "access_info": {"is_creator": true, "creator_name": "sim", "creator_email": "sim@localhost", "role": "admin"},
                "last_call_time_unix_secs": null,
            })
        })
        .collect();
    Ok(Json(
        json!({"agents": agents, "next_cursor": null, "has_more": false}),
    ))
}

async fn get_agent(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let agent = shared.agent(&id).ok_or_else(|| agent_not_found(&id))?;
    Ok(Json(agent_details(&agent)))
}

/// `GetAgentResponseModel` (§2.4), as far as the simulator models it.
fn agent_details(a: &AgentConfig) -> Value {
    let overrides = |path: &str| {
        a.allowed_overrides
            .iter()
            .any(|p| path.starts_with(p.as_str()))
    };
    json!({
        "agent_id": a.agent_id,
        "name": a.name,
        "conversation_config": {
            "asr": {"user_input_audio_format": a.input_format},
            "turn": {"turn_timeout": 7, "silence_end_call_timeout": -1, "mode": "turn"},
            "tts": {"voice_id": "sim_voice", "agent_output_audio_format": a.output_format},
            "conversation": {
                "text_only": a.text_only,
                "max_duration_seconds": a.max_duration_secs.ceil() as u64,
                "client_events": a.client_events,
            },
            "agent": {
                "first_message": a.first_message.clone().unwrap_or_default(),
                "language": "en",
                "prompt": {
                    "prompt": a.prompt,
                    "llm": "sim-llm",
                    "tools": a.client_tools.iter().map(|t| json!({"type": "client", "name": t, "expects_response": true})).collect::<Vec<_>>(),
                },
            },
        },
        "metadata": {"created_at_unix_secs": 0},
        "platform_settings": {
            "auth": {"enable_auth": a.requires_auth, "allowlist": []},
            "overrides": {
                "conversation_config_override": {
                    "agent": {
                        "first_message": overrides("agent.first_message"),
                        "language": overrides("agent.language"),
                        "prompt": {"prompt": overrides("agent.prompt.prompt")},
                    },
                    "tts": {"voice_id": overrides("tts.voice_id")},
                    "conversation": {"text_only": overrides("conversation.text_only")},
                },
            },
            "call_limits": {"agent_concurrency_limit": -1, "daily_limit": 100000, "bursting_enabled": true},
        },
        "phone_numbers": [],
        "tags": [],
    })
}

async fn create_agent(
    State(shared): SharedState,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| ApiError::Validation {
        loc: ["body", "conversation_config"],
        message: format!("Invalid JSON: {e}"),
    })?;
    let agent = agent_from_request(&body, new_id("agent_")).ok_or(ApiError::Validation {
        loc: ["body", "conversation_config"],
        message: "Field required".to_owned(),
    })?;
    let agent_id = agent.agent_id.clone();
    shared.put_agent(agent).map_err(|e| ApiError::Validation {
        loc: ["body", "conversation_config"],
        message: e.to_string(),
    })?;
    Ok(Json(json!({ "agent_id": agent_id })))
}

async fn delete_agent(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    if shared.remove_agent(&id) {
        Ok(Json(json!({})))
    } else {
        Err(agent_not_found(&id))
    }
}

/// An agent from a create request (the fields of §2.4 the simulator
/// models); `None` without `conversation_config`. It answers with the
/// default responder.
fn agent_from_request(body: &Value, agent_id: String) -> Option<AgentConfig> {
    let cc = body.get("conversation_config").filter(|c| c.is_object())?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let base = AgentConfig::new(agent_id);
    let tools = cc
        .pointer("/agent/prompt/tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter(|t| t["type"] == "client")
                .filter_map(|t| text(t.get("name")))
                .collect()
        })
        .unwrap_or_default();
    let events = cc
        .pointer("/conversation/client_events")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(|v| text(Some(v))).collect());
    let mut allowed = Vec::new();
    if let Some(flags) = body.pointer("/platform_settings/overrides/conversation_config_override") {
        enabled_paths(flags, String::new(), &mut allowed);
    }
    Some(AgentConfig {
        name: text(body.get("name")).unwrap_or_else(|| "New agent".to_owned()),
        first_message: text(cc.pointer("/agent/first_message")).filter(|t| !t.is_empty()),
        prompt: text(cc.pointer("/agent/prompt/prompt")).unwrap_or(base.prompt.clone()),
        client_tools: tools,
        client_events: events.unwrap_or(base.client_events.clone()),
        text_only: cc
            .pointer("/conversation/text_only")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        max_duration_secs: cc
            .pointer("/conversation/max_duration_seconds")
            .and_then(Value::as_f64)
            .unwrap_or(base.max_duration_secs),
        input_format: text(cc.pointer("/asr/user_input_audio_format"))
            .unwrap_or(base.input_format.clone()),
        output_format: text(cc.pointer("/tts/agent_output_audio_format"))
            .unwrap_or(base.output_format.clone()),
        requires_auth: body
            .pointer("/platform_settings/auth/enable_auth")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        allowed_overrides: allowed,
        ..base
    })
}

/// Dotted paths of the `true` flags in an overrides settings object.
fn enabled_paths(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Bool(true) => out.push(path),
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                enabled_paths(child, child_path, out);
            }
        }
        _ => {}
    }
}
