//! `GET /v1/convai/conversation/get-signed-url?agent_id=…`: a URL that opens
//! one conversation without further credentials, in ElevenLabs' JSON shape.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header::HOST;
use axum::http::{HeaderMap, Uri};
use events::{AgentId, UserId};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SignedUrlQuery {
    /// The agent the URL opens a conversation with.
    agent_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedUrl {
    /// `ws(s)://<host>/v1/convai/conversation?agent_id=…&conversation_signature=…`, single use.
    signed_url: String,
}

/// A single-use URL that opens one conversation with the agent for the caller.
#[utoipa::path(get, path = "/v1/convai/conversation/get-signed-url", tag = "convai",
    params(SignedUrlQuery),
    responses(
        (status = 200, body = SignedUrl),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_signed_url(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<SignedUrl>, ApiError> {
    let user_id = state.auth.token_user(&headers)?;
    let query = Query::<SignedUrlQuery>::try_from_uri(&uri)
        .map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
    let agent_id = parse_agent(query.0.agent_id, "agent_id")?;
    Ok(Json(SignedUrl {
        signed_url: signed_url(&state, user_id, &agent_id, &headers, &uri)?,
    }))
}

/// The agent a query names as `field`, required.
pub(crate) fn parse_agent(agent_id: Option<String>, field: &str) -> Result<AgentId, ApiError> {
    agent_id
        .ok_or_else(|| ApiError::BadRequest(format!("{field} is required")))?
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("{field} is invalid")))
}

/// A single-use URL on the host the client used that opens one
/// conversation of `user_id` with `agent_id`.
pub(crate) fn signed_url(
    state: &AppState,
    user_id: UserId,
    agent_id: &AgentId,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<String, ApiError> {
    let host = host(headers, uri)
        .ok_or_else(|| ApiError::BadRequest("a valid Host header is required".into()))?;
    let scheme = if forwarded_https(headers) {
        "wss"
    } else {
        "ws"
    };
    let signature = state.auth.sign(user_id, agent_id);
    tracing::info!(%user_id, %agent_id, "signed URL issued");
    Ok(format!(
        "{scheme}://{host}/v1/convai/conversation?agent_id={agent_id}&conversation_signature={signature}"
    ))
}

/// ElevenLabs' deprecated spelling of [`get_signed_url`].
#[utoipa::path(get, path = "/v1/convai/conversation/get_signed_url", tag = "convai",
    params(SignedUrlQuery), responses((status = 200, body = SignedUrl)))]
pub async fn get_signed_url_deprecated(
    state: State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<SignedUrl>, ApiError> {
    get_signed_url(state, headers, uri).await
}

/// The host the client used (HTTP/1.1 `Host`, else the URI's authority),
/// only if it looks like one, since it is copied into the URL.
fn host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    let host = match headers.get(HOST) {
        Some(value) => value.to_str().ok()?,
        None => uri.authority()?.as_str(),
    };
    let plausible = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b));
    plausible.then_some(host)
}

/// `X-Forwarded-Proto: https` from a TLS-terminating proxy (first hop counts).
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}
