//! `GET /v1/convai/conversation?agent_id=…`: the ElevenLabs conversation
//! WebSocket. The caller is checked before the upgrade; a WebSocket client
//! cannot read an HTTP error body, so a refused upgrade is still accepted
//! and then closed at once with 1008 and the reason. Plain HTTP requests get
//! `application/problem+json`.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use events::{AgentId, CorrelationId};
use serde::Deserialize;

use crate::auth::{AuthError, SignatureError};
use crate::error::ApiError;
use crate::live::limit::{BUSY_REASON, CallRefused};
use crate::live::{Admission, refuse};
use crate::state::AppState;
use bus::Close;
use bus::close::{POLICY, TRY_AGAIN_LATER};

/// The subprotocol the JS SDK requests; browsers fail unless it is echoed.
const CONVAI_PROTOCOL: &str = "convai";

/// Unknown parameters (`source`, `version`, `environment`) are ignored.
#[derive(Deserialize)]
struct ConversationQuery {
    agent_id: Option<String>,
    conversation_signature: Option<String>,
}

/// What a client socket reads at a time. tungstenite's default, 128 KiB
/// allocated up front per connection, was most of the gateway's memory per
/// live call; a larger frame still grows the buffer as it arrives.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// The conversation WebSocket, speaking ElevenLabs' protocol. Credential:
/// a token (header, `xi-api-key` or the `bearer.<token>` subprotocol) or a
/// `conversation_signature` from a signed URL.
#[utoipa::path(get, path = "/v1/convai/conversation", tag = "convai",
    params(
        ("agent_id" = String, Query, description = "The agent to talk to"),
        ("conversation_signature" = Option<String>, Query, description = "From a signed URL"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 426, body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let query = Query::<ConversationQuery>::try_from_uri(&uri).map(|q| q.0);
    let Ok(upgrade) = upgrade else {
        return plain_http(&state, &headers, query.ok()).into_response();
    };
    let upgrade = upgrade
        .max_message_size(state.live.bounds.max_frame_bytes)
        .max_frame_size(state.live.bounds.max_frame_bytes)
        .read_buffer_size(READ_BUFFER_BYTES)
        .protocols([CONVAI_PROTOCOL]);
    match admit(&state, &headers, query.ok()).await {
        Ok(admission) => {
            let live = state.live.clone();
            upgrade.on_upgrade(move |socket| live.converse(socket, admission))
        }
        Err(close) => {
            tracing::info!(code = close.code, reason = %close.reason, "upgrade refused");
            upgrade.on_upgrade(move |socket| refuse(socket, close))
        }
    }
}

/// Checks credential, agent and the user's call limit, then uses the
/// credential up (a signature only once everything else passed).
async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<ConversationQuery>,
) -> Result<Admission, Close> {
    let query = query.ok_or_else(|| Close::new(POLICY, "malformed query string"))?;
    let agent = parse_agent(query.agent_id.as_deref());
    let caller = state
        .auth
        .check(
            headers,
            query.conversation_signature.as_deref(),
            agent.as_ref().ok(),
        )
        .map_err(auth_close)?;
    let agent_id = agent.map_err(|reason| Close::new(POLICY, reason))?;
    let call = state
        .live
        .calls
        .begin(caller.user_id())
        .await
        .map_err(|refused| match refused {
            CallRefused::Busy => Close::new(POLICY, BUSY_REASON),
            CallRefused::Unavailable(_) => Close::new(TRY_AGAIN_LATER, refused.to_string()),
        })?;
    let user_id = match state.auth.admit(caller).await {
        Ok(user_id) => user_id,
        Err(error) => {
            call.end().await;
            return Err(auth_close(error));
        }
    };
    Ok(Admission {
        user_id,
        agent_id,
        correlation_id: CorrelationId::new(),
        call,
    })
}

/// The same checks for a request that is not an upgrade: 401, 400, else 426.
fn plain_http(state: &AppState, headers: &HeaderMap, query: Option<ConversationQuery>) -> ApiError {
    let Some(query) = query else {
        return ApiError::BadRequest("malformed query string".into());
    };
    let agent = parse_agent(query.agent_id.as_deref());
    let checked = state.auth.check(
        headers,
        query.conversation_signature.as_deref(),
        agent.as_ref().ok(),
    );
    match (checked, agent) {
        (Err(error), _) => ApiError::Unauthorized(error),
        (Ok(_), Err(reason)) => ApiError::BadRequest(reason.into()),
        (Ok(_), Ok(_)) => ApiError::UpgradeRequired,
    }
}

fn parse_agent(agent_id: Option<&str>) -> Result<AgentId, &'static str> {
    agent_id
        .ok_or("agent_id is required")?
        .parse()
        .map_err(|_| "agent_id is invalid")
}

fn auth_close(error: AuthError) -> Close {
    let code = match error {
        AuthError::Signature(SignatureError::Unavailable) => TRY_AGAIN_LATER,
        _ => POLICY,
    };
    Close::new(code, error.to_string())
}
