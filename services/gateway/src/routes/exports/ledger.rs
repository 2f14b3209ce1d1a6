//! `GET /api/exports/ledger`: ledger entries (one posting each, with its
//! trail) as CSV or NDJSON, in log order. Users export their own account's;
//! finance and admin any account's, or all.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bson::{Document, doc};
use events::AccountId;
use serde::Deserialize;

use super::format::Format;
use super::stream::{self, ExportResponses, Row};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::routes::money::accounts::LedgerEntry;
use crate::routes::money::path;
use crate::routes::money::range::Window;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerExportQuery {
    /// `user-<id>` or `system-<name>`; a user may name only their own (the default for them).
    account: Option<String>,
    /// Entries of events that occurred at or after this (RFC 3339 time or date).
    from: Option<String>,
    /// Entries of events that occurred before this (a date includes that day).
    to: Option<String>,
    /// `csv` or `ndjson`; default from `Accept`, else CSV.
    #[param(inline)]
    format: Option<Format>,
}

impl Row for LedgerEntry {
    const COLUMNS: &'static [&'static str] = &[
        "entryId",
        "account",
        "credits",
        "subject",
        "sequence",
        "eventId",
        "eventType",
        "correlationId",
        "causationId",
        "conversationId",
        "occurredAt",
    ];
}

/// Ledger entries as CSV or NDJSON, streamed in log order (columns: entryId, account, credits, subject, sequence, eventId, eventType, correlationId, causationId, conversationId, occurredAt). Users export their own account; finance and admin any or all.
#[utoipa::path(get, path = "/api/exports/ledger", tag = "exports",
    params(LedgerExportQuery),
    responses(
        ExportResponses,
        (status = 404, description = "account is another user's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_ledger(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<LedgerExportQuery>,
) -> Result<Response, ApiError> {
    let format = Format::choose(query.format, &headers)?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let everyone = matches!(principal.role, Role::Finance | Role::Admin);
    let account = match query.account.as_deref().map(path::account).transpose()? {
        Some(AccountId::User(user)) => Some(AccountId::User(principal.money_of(user, "account")?)),
        Some(system) if everyone => Some(system),
        Some(_) => return Err(ApiError::NotFound("account")),
        None if everyone => None,
        None => Some(AccountId::User(principal.user_id)),
    };
    let mut filter = Document::new();
    if let Some(account) = account {
        filter.insert("account", account.to_string());
    }
    window.restrict(&mut filter, "occurredAt");
    let collection = state.reads.ledger_entries();
    let find = collection
        .find(filter)
        .sort(doc! { "sequence": 1, "_id": 1 });
    let cursor = stream::open(find).await?;
    tracing::info!(caller = %principal.user_id, ?format, "ledger export started");
    Ok(stream::response(cursor, format, "ledger", |document| {
        LedgerEntry::of(&document)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::exports::stream::assert_columns;

    #[test]
    fn an_entry_row_has_the_columns() {
        let entry = LedgerEntry::of(&doc! {
            "_id": "7:0", "account": "system-usage", "credits": 5_i64, "sequence": 7_i64,
            "causationId": "c", "occurredAt": bson::DateTime::now(),
        });
        assert_eq!(entry.causation_id.as_deref(), Some("c"));
        assert_columns(&entry);
    }
}
