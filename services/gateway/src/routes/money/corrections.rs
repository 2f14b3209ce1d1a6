//! `POST /api/admin/corrections`: an admin corrects a user's credits
//! either way (`cmd.ledger.correct`), with a reason, once per
//! `Idempotency-Key`; the admin is recorded as the actor.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use events::command::{Balance, CorrectCredits, subject};
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
pub struct CorrectionRequest {
    /// 24-hex user id.
    #[schema(value_type = String)]
    user_id: UserId,
    /// Positive: credits to the user; negative: taken from them; never 0.
    credits: i64,
    /// Why (1 to 200 characters), kept on the event.
    reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrectionDone {
    /// The ledger's id of the correction, the same for every retry with the same key.
    pub correction_id: String,
    pub balance: UserBalance,
}

/// Corrects a user's credits by hand, either sign, with a reason (admin). A retry with the same `Idempotency-Key` and body books nothing new; the key with another body is 422.
#[utoipa::path(post, path = "/api/admin/corrections", tag = "admin",
    request_body = CorrectionRequest,
    params(("Idempotency-Key" = String, Header, description = "Names this correction; a retry with the same key and body counts once; the key with another body is 422")),
    responses(
        (status = 200, description = "Booked (or already booked under this key); the balance after", body = CorrectionDone),
        AdminWriteProblems,
    ))]
pub async fn correct(
    State(state): State<AppState>,
    Admin(principal): Admin,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CorrectionRequest>,
) -> Result<Json<CorrectionDone>, ApiError> {
    let correction_id = idempotency::write_id(&headers, principal.user_id, "correction")?;
    if request.credits == 0 {
        return Err(ApiError::Unprocessable(
            "credits must not be 0: a correction moves at least 1 credit".to_owned(),
        ));
    }
    if request.reason.trim().is_empty() {
        return Err(ApiError::Unprocessable(
            "a correction needs its reason".to_owned(),
        ));
    }
    state.idempotency.claim(correction_id, &request).await?;
    let user_id = request.user_id;
    let body = CorrectCredits {
        correction_id,
        user_id,
        credits: Credits::new(request.credits),
        reason: request.reason,
        actor: format!("admin {}", principal.user_id),
    };
    let balance: Balance =
        ask(&state.nats, subject::LEDGER_CORRECT, &body, COMMAND_TIMEOUT).await?;
    tracing::info!(admin = %principal.user_id, %user_id, %correction_id, credits = body.credits.get(), "credits corrected");
    Ok(Json(CorrectionDone {
        correction_id: correction_id.to_string(),
        balance: UserBalance::new(user_id, balance),
    }))
}
