//! `GET /api/ledger/reconciliation`: the ledger's reconciliation report
//! (`cmd.ledger.reconcile`, computed from the log by whichever ledger copy
//! answers), passed through as the ledger wrote it.

use axum::Json;
use axum::extract::State;
use events::command::{Reconcile, subject};
use serde::Deserialize;
use serde_json::Value;

use super::ledger_ask::{REPORT_TIMEOUT, ask};
use super::range::Window;
use super::role::Finance;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReconciliationQuery {
    /// Conversations whose first event is at or after this (RFC 3339 time or date); default: all.
    from: Option<String>,
    /// Conversations whose first event is before this (a date includes that day); the trial balance is taken here.
    to: Option<String>,
}

/// The reconciliation report: per conversation what was held, estimated, charged and reported by ElevenLabs, the difference and its cause, flags; conversations without a cost report, charges without a conversation; per-user and total sums; the trial balance, which is zero (finance, admin).
#[utoipa::path(get, path = "/api/ledger/reconciliation", tag = "ledger",
    params(ReconciliationQuery),
    responses(
        (status = 200, description = "The report: `window`, `price`, `conversations`, `no_cost_report`, `charges_without_conversation`, `users`, `totals`, `trial_balance`", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not finance or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The report of this window is too large; ask for a shorter one", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The ledger is not answering", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reconciliation(
    State(state): State<AppState>,
    _: Finance,
    ApiQuery(query): ApiQuery<ReconciliationQuery>,
) -> Result<Json<Value>, ApiError> {
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let request = Reconcile {
        from: window.from,
        to: window.to,
    };
    let report: Value = ask(
        &state.nats,
        subject::LEDGER_RECONCILE,
        &request,
        REPORT_TIMEOUT,
    )
    .await?;
    Ok(Json(report))
}
