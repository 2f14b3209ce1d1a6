//! The conversation WebSocket `GET /v1/convai/conversation` (§1): the
//! upgrade with the `convai` subprotocol rule, admission by `agent_id`,
//! signed URL or `xi-api-key`, then one session task per socket.

pub(crate) mod audio;
mod ending;
mod events;
mod opening;
mod session;
mod speech;
mod tools;
mod turns;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::agent::AgentConfig;
use crate::fault::Fault;
use crate::rest::ApiError;
use crate::signed_url::SignatureError;
use crate::state::Shared;

/// The subprotocol the JS SDK requests and a browser needs echoed (§1.1).
const SUBPROTOCOL: &str = "convai";
/// The Python SDK's frame limit (§1.1).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// What a socket reads at a time: tungstenite zeroes its whole read buffer
/// (128 KiB by default) on every read, which under load was a tenth of the
/// machine's CPU in `parlor bench`.
const READ_BUFFER_BYTES: usize = 8 * 1024;
/// Close code for policy violations: bad input, auth, overrides (§1.6).
pub(crate) const CLOSE_POLICY: u16 = 1008;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new().route("/v1/convai/conversation", get(upgrade))
}

/// `metadata.authorization_method` of the record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthMethod {
    Public,
    SignedUrl,
    AuthorizationHeader,
}

impl AuthMethod {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::SignedUrl => "signed_url",
            Self::AuthorizationHeader => "authorization_header",
        }
    }
}

async fn upgrade(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let refused = shared
        .faults
        .take(|f| (*f == Fault::RefuseWs429).then_some(()))
        .is_some();
    let slot = shared.call_slot();
    let Some(slot) = slot.filter(|_| !refused) else {
        return ApiError::TooManyConcurrent(shared.retry_after_secs).into_response();
    };
    let admission = admit(&shared, &query, &headers);
    ws.protocols([SUBPROTOCOL])
        .max_message_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            // The call is billed from here, the moment the socket is open.
            let opened = Instant::now();
            let _slot = slot;
            match admission {
                Ok((agent, method)) => {
                    session::run(shared, agent, method, socket, opened).await;
                }
                Err(reason) => refuse(socket, reason).await,
            }
        })
}

/// Which agent the socket talks to, and how it was authorised.
fn admit(
    shared: &Shared,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<(AgentConfig, AuthMethod), &'static str> {
    let agent_id = query.get("agent_id").map(String::as_str);
    let signature = query
        .get("conversation_signature")
        .or_else(|| query.get("token"));
    let (agent_id, method) = if let Some(signature) = signature {
        let agent_id = shared
            .signed_urls
            .check(signature, agent_id)
            .map_err(|e| match e {
                SignatureError::Expired => "Signed URL has expired",
                SignatureError::Unknown | SignatureError::WrongAgent => {
                    "Invalid conversation signature"
                }
            })?;
        (agent_id, AuthMethod::SignedUrl)
    } else if let Some(key) = headers.get("xi-api-key") {
        if key.to_str().ok() != Some(shared.api_key.as_str()) {
            return Err("Invalid API key");
        }
        (
            agent_id.ok_or("Missing agent_id")?.to_owned(),
            AuthMethod::AuthorizationHeader,
        )
    } else {
        (
            agent_id.ok_or("Missing agent_id")?.to_owned(),
            AuthMethod::Public,
        )
    };
    let agent = shared.agent(&agent_id).ok_or("Invalid agent id")?;
    if agent.requires_auth && matches!(method, AuthMethod::Public) {
        return Err("Agent requires authentication");
    }
    Ok((agent, method))
}

/// Closes an admitted-but-refused socket with 1008, as §6 item 1 suggests.
async fn refuse(mut socket: WebSocket, reason: &'static str) {
    tracing::debug!(reason, "refusing conversation");
    let frame = CloseFrame {
        code: CLOSE_POLICY,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    session::drain_close(&mut socket).await;
}
