//! `POST /api/agent`: one message of a text chat with an agent, and the
//! agent's reply (see `crate::chat`).

use axum::Json;
use axum::extract::State;
use events::{AgentId, ConversationId};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::chat;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The longest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChatRequest {
    /// The agent to talk to (must be the conversation's agent when continuing).
    #[schema(value_type = String, example = "agent_sim_default")]
    agent_id: AgentId,
    /// What the user says (1..=16 KiB).
    message: String,
    /// Absent: a new conversation. Present: the id an earlier reply gave.
    #[schema(value_type = Option<String>, example = "65a1b2c3d4e5f60718293a4b")]
    conversation_id: Option<ConversationId>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatResponse {
    /// Parlor's id of the conversation; send it with the next message.
    conversation_id: String,
    /// The agent's reply to this message.
    reply: String,
    /// `in-progress` (the conversation stays open until idle).
    status: String,
}

/// Sends one message of a text chat and answers the agent's reply. The
/// first message opens a text-only conversation (charged per message when
/// it ends); it ends normally after `PARLOR_CHAT_IDLE_MS` without messages.
#[utoipa::path(post, path = "/api/agent", tag = "agent",
    request_body = ChatRequest,
    responses(
        (status = 200, body = ChatResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such conversation (or another user's), or agent",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the conversation has ended, or the credits do not cover a start",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many live conversations; see Retry-After",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "the session service or the agent did not answer in time",
            body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn chat(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<Json<ChatResponse>, ApiError> {
    let message = request.message.trim();
    if message.is_empty() {
        return Err(ApiError::Unprocessable("message must not be empty".into()));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::Unprocessable(format!(
            "message must be at most {MAX_MESSAGE_BYTES} bytes"
        )));
    }
    let user_id = principal.user_id;
    let (id, turn) = match request.conversation_id {
        None => chat::open(&state.live, state.chat, user_id, request.agent_id, message).await?,
        Some(id) => {
            let turn = chat::continue_chat(
                &state.live,
                state.chat,
                user_id,
                id,
                &request.agent_id,
                message,
            )
            .await?;
            (id, turn)
        }
    };
    Ok(Json(ChatResponse {
        conversation_id: id.to_string(),
        reply: turn.reply,
        status: turn.status.to_owned(),
    }))
}
