//! Money routes: a user's cost, metrics and balance (the seed's cost route
//! among them), finance's ledger accounts, entries and reconciliation, and
//! the admin's grants and corrections. Users see only their own money;
//! finance reads everyone's; only admins write.

pub(crate) mod accounts;
mod balance;
mod corrections;
mod cost;
pub(crate) mod fields;
mod grants;
pub(crate) mod idempotency;
mod ledger_ask;
mod metrics;
pub(crate) mod page;
pub(crate) mod path;
pub(crate) mod range;
mod reconciliation;
mod role;
mod write_problems;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cost::conversation_cost))
        .routes(routes!(metrics::user_metrics))
        .routes(routes!(balance::user_balance))
        .routes(routes!(accounts::list_accounts))
        .routes(routes!(accounts::account_entries))
        .routes(routes!(reconciliation::reconciliation))
        .routes(routes!(grants::grant))
        .routes(routes!(corrections::correct))
}
