//! `GET /api/me`: who the token says the caller is, so a client (the
//! dashboard) can show what the caller's role allows.

use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::error::Problem;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Me {
    /// The caller's user id (24 hex).
    user_id: String,
    /// `user`, `finance` or `admin`.
    role: &'static str,
}

/// The caller's user id and role.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses(
        (status = 200, body = Me),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn me(principal: Principal) -> Json<Me> {
    Json(Me {
        user_id: principal.user_id.to_string(),
        role: Role::as_str(principal.role),
    })
}
