//! `GET /api/agent/signed-url?agentId=…`: the seed's client-side mode. The
//! same single-use URL as `GET /v1/convai/conversation/get-signed-url`, so
//! the client's conversation runs through Parlor (recorded and charged
//! live) rather than straight to ElevenLabs.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::routes::convai::signed_url::{parse_agent, signed_url as sign};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct SignedUrlQuery {
    /// The agent the URL opens a conversation with.
    agent_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentSignedUrl {
    /// `ws(s)://<host>/v1/convai/conversation?agent_id=…&conversation_signature=…`, single use.
    #[serde(rename = "signedUrl")]
    signed_url_camel: String,
    /// The same URL under ElevenLabs' name, for clients that pass its reply on as is.
    signed_url: String,
}

/// A single-use URL that opens one conversation with the agent for the caller.
#[utoipa::path(get, path = "/api/agent/signed-url", tag = "agent",
    params(SignedUrlQuery),
    responses(
        (status = 200, body = AgentSignedUrl),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signed_url(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<SignedUrlQuery>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<AgentSignedUrl>, ApiError> {
    let agent_id = parse_agent(query.agent_id, "agentId")?;
    let url = sign(&state, principal.user_id, &agent_id, &headers, &uri)?;
    Ok(Json(AgentSignedUrl {
        signed_url_camel: url.clone(),
        signed_url: url,
    }))
}
