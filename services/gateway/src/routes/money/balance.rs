//! `GET /api/users/{userId}/balance`: the ledger's own answer
//! (`cmd.ledger.balance`), fresher than the `ledger_accounts` read model.

use axum::Json;
use axum::extract::{Path, State};
use events::command::{Balance, GetBalance, subject};
use serde::Serialize;

use super::ledger_ask::{COMMAND_TIMEOUT, ask};
use super::path;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBalance {
    pub user_id: String,
    /// Credits the user can spend now.
    pub available: i64,
    /// Credits reserved by live conversations.
    pub held: i64,
    /// `available + held`.
    pub balance: i64,
}

impl UserBalance {
    pub fn new(user: events::UserId, balance: Balance) -> Self {
        Self {
            user_id: user.to_string(),
            available: balance.available.get(),
            held: balance.held.get(),
            balance: balance.available.get().saturating_add(balance.held.get()),
        }
    }
}

/// A user's credits as the ledger knows them now. Users see their own; finance and admin anyone's.
#[utoipa::path(get, path = "/api/users/{userId}/balance", tag = "money",
    params(("userId" = String, Path, description = "24-hex user id")),
    responses(
        (status = 200, body = UserBalance),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not this caller's user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The ledger is not answering", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn user_balance(
    State(state): State<AppState>,
    principal: Principal,
    Path(user): Path<String>,
) -> Result<Json<UserBalance>, ApiError> {
    let user = principal.money_of(path::user(&user)?, "user")?;
    let balance: Balance = ask(
        &state.nats,
        subject::LEDGER_BALANCE,
        &GetBalance { user_id: user },
        COMMAND_TIMEOUT,
    )
    .await?;
    Ok(Json(UserBalance::new(user, balance)))
}
