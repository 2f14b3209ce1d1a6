//! `POST /api/admin/grants`: an admin gives a user credits
//! (`cmd.ledger.grant`, or `cmd.ledger.grant_expiring` with `expiresAt`),
//! once per `Idempotency-Key`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use events::command::{Balance, GrantCredits, GrantExpiringCredits, subject};
use events::{Credits, UserId};
use serde::{Deserialize, Serialize};

use super::balance::UserBalance;
use super::idempotency;
use super::ledger_ask::{COMMAND_TIMEOUT, ask};
use super::role::Admin;
use super::write_problems::AdminWriteProblems;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GrantRequest {
    /// 24-hex user id.
    #[schema(value_type = String)]
    user_id: UserId,
    /// Whole credits, at least 1.
    credits: i64,
    /// Why (at most 200 characters), kept on the event.
    reason: Option<String>,
    /// When what is left of the grant expires (RFC 3339, in the future).
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantDone {
    /// The ledger's id of the grant, the same for every retry with the same key.
    pub grant_id: String,
    pub balance: UserBalance,
}

/// Grants a user credits, optionally expiring (admin). A retry with the same `Idempotency-Key` and body books nothing new; the key with another body is 422.
#[utoipa::path(post, path = "/api/admin/grants", tag = "admin",
    request_body = GrantRequest,
    params(("Idempotency-Key" = String, Header, description = "Names this grant; a retry with the same key and body counts once; the key with another body is 422")),
    responses(
        (status = 200, description = "Granted (or already granted under this key); the balance after", body = GrantDone),
        AdminWriteProblems,
    ))]
pub async fn grant(
    State(state): State<AppState>,
    Admin(principal): Admin,
    headers: HeaderMap,
    ApiJson(request): ApiJson<GrantRequest>,
) -> Result<Json<GrantDone>, ApiError> {
    let grant_id = idempotency::write_id(&headers, principal.user_id, "grant")?;
    if request.credits < 1 {
        return Err(ApiError::Unprocessable(format!(
            "credits must be at least 1, not {}",
            request.credits
        )));
    }
    if let Some(past) = request.expires_at.filter(|at| *at <= Utc::now()) {
        return Err(ApiError::Unprocessable(format!(
            "expiresAt {} is not in the future",
            past.to_rfc3339()
        )));
    }
    state.idempotency.claim(grant_id, &request).await?;
    let credits = Credits::new(request.credits);
    let user_id = request.user_id;
    let balance: Balance = match request.expires_at {
        None => {
            let body = GrantCredits {
                grant_id,
                user_id,
                credits,
                reason: request.reason,
            };
            ask(&state.nats, subject::LEDGER_GRANT, &body, COMMAND_TIMEOUT).await?
        }
        Some(expires_at) => {
            let body = GrantExpiringCredits {
                grant_id,
                user_id,
                credits,
                expires_at,
                reason: request.reason,
            };
            ask(
                &state.nats,
                subject::LEDGER_GRANT_EXPIRING,
                &body,
                COMMAND_TIMEOUT,
            )
            .await?
        }
    };
    tracing::info!(admin = %principal.user_id, %user_id, %grant_id, credits = credits.get(), "credits granted");
    Ok(Json(GrantDone {
        grant_id: grant_id.to_string(),
        balance: UserBalance::new(user_id, balance),
    }))
}
