//! `GET /api/agents/{agentId}/stats`: calls, success rate, average
//! duration, credits and latency p50/p90/p99 of one agent.
//!
//! The projector's `agent_stats` rollup sums every user's calls, which is
//! other users' business volume, so only admin and finance read it
//! (`coverage: "all"`). A user gets the same figures over their own
//! conversations with the agent (`coverage: "own"`), summed here from
//! their documents' sketches. No visible conversation with the agent: 404.

mod figures;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bson::doc;
use bson::oid::ObjectId;
use futures::TryStreamExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::error::{ApiError, Problem};
use crate::routes::conversations::fetch::mongo_error;
use crate::routes::conversations::path_segment;
use crate::state::AppState;
use figures::{AgentStats, Figures};

/// Longest agent id looked up.
const AGENT_ID_MAX: usize = 128;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(agent_stats))
}

/// One agent's figures: everyone's for admin and finance, the caller's own otherwise.
#[utoipa::path(get, path = "/api/agents/{agentId}/stats", tag = "agents",
    params(("agentId" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, body = AgentStats),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json",
            description = "No conversation with this agent the caller may see"),
    ))]
async fn agent_stats(
    principal: Principal,
    State(state): State<AppState>,
    agent_id: Result<Path<String>, PathRejection>,
) -> Result<Json<AgentStats>, ApiError> {
    let agent_id = path_segment(agent_id)?;
    if agent_id.is_empty() || agent_id.len() > AGENT_ID_MAX {
        return Err(ApiError::BadRequest(format!(
            "agentId must be 1 to {AGENT_ID_MAX} bytes"
        )));
    }
    match principal.role {
        Role::Admin | Role::Finance => {
            let rollup = state
                .reads
                .agent_stats()
                .find_one(doc! { "_id": agent_id.as_str() })
                .await
                .map_err(mongo_error)?
                .ok_or(ApiError::NotFound("agent"))?;
            Ok(Json(figures::from_rollup(&rollup)))
        }
        Role::User => {
            let me = ObjectId::from_bytes(principal.user_id.bytes());
            let mut cursor = state
                .reads
                .conversations()
                .find(doc! { "agentId": agent_id.as_str(), "userId": me })
                .projection(figures::projection())
                .await
                .map_err(mongo_error)?;
            let mut figures = Figures::default();
            while let Some(conversation) = cursor.try_next().await.map_err(mongo_error)? {
                figures.add(&conversation);
            }
            if figures.calls() == 0 {
                return Err(ApiError::NotFound("agent"));
            }
            Ok(Json(figures.stats(&agent_id)))
        }
    }
}
