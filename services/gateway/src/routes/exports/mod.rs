//! Exports: conversations and ledger entries as CSV or NDJSON, streamed
//! from a MongoDB cursor with no whole export in memory, filtered as the
//! list routes are and scoped to what the caller may see.

mod conversations;
mod format;
mod ledger;
mod stream;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(conversations::export_conversations))
        .routes(routes!(ledger::export_ledger))
}
