//! Finance's view of the ledger read models: `GET /api/ledger/accounts`
//! (`ledger_accounts`, by account id) and
//! `GET /api/ledger/accounts/{accountId}/entries` (`ledger_entries`, in log
//! order, each with its trail to the event behind it).

use axum::Json;
use axum::extract::{Path, State};
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::range::Window;
use super::read::read_failed;
use super::role::Finance;
use super::{fields, page, path};
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    User,
    System,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountsQuery {
    /// `user` or `system`; default both.
    #[param(inline)]
    kind: Option<AccountKind>,
    /// 1..=100, default 30.
    page_size: Option<u32>,
    cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerAccount {
    /// `user-<id>` or `system-<name>`.
    pub account_id: String,
    pub kind: String,
    /// The sum of the account's postings.
    pub available: i64,
    /// A user's credits reserved by live calls.
    pub held: i64,
    pub balance: i64,
    /// Postings booked to the account.
    pub entries: i64,
    /// The last LEDGER stream sequence the read model applied to it.
    pub last_sequence: i64,
}

impl LedgerAccount {
    fn of(document: &Document) -> Self {
        Self {
            account_id: fields::text(document, "_id").unwrap_or_default(),
            kind: fields::text(document, "kind").unwrap_or_default(),
            available: fields::int(document, "available"),
            held: fields::int(document, "held"),
            balance: fields::int(document, "balance"),
            entries: fields::int(document, "entries"),
            last_sequence: fields::int(document, "lastSequence"),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountsPage {
    pub items: Vec<LedgerAccount>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// Every ledger account with its balance, by account id (finance, admin).
#[utoipa::path(get, path = "/api/ledger/accounts", tag = "ledger",
    params(AccountsQuery),
    responses(
        (status = 200, body = AccountsPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not finance or admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_accounts(
    State(state): State<AppState>,
    _: Finance,
    ApiQuery(query): ApiQuery<AccountsQuery>,
) -> Result<Json<AccountsPage>, ApiError> {
    let size = page::size(query.page_size)?;
    let after: Option<String> = page::decode(query.cursor.as_deref())?;
    let mut filter = Document::new();
    if let Some(kind) = query.kind {
        filter.insert(
            "kind",
            match kind {
                AccountKind::User => "user",
                AccountKind::System => "system",
            },
        );
    }
    if let Some(after) = after {
        filter.insert("_id", doc! { "$gt": after });
    }
    let found: Vec<Document> = state
        .reads
        .ledger_accounts()
        .find(filter)
        .sort(doc! { "_id": 1 })
        .limit(i64::from(size) + 1)
        .await
        .map_err(read_failed)?
        .try_collect()
        .await
        .map_err(read_failed)?;
    let (found, has_more) = page::split(found, size);
    let items: Vec<LedgerAccount> = found.iter().map(LedgerAccount::of).collect();
    let next_cursor = has_more
        .then(|| items.last().map(|a| page::encode(&a.account_id)))
        .flatten();
    Ok(Json(AccountsPage {
        items,
        next_cursor,
        has_more,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// Entries of events that occurred at or after this (RFC 3339 time or date).
    from: Option<String>,
    /// Entries of events that occurred before this (a date includes that day).
    to: Option<String>,
    page_size: Option<u32>,
    cursor: Option<String>,
}

/// One posting with its trail to the event behind it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    /// `<stream sequence>:<leg>`.
    pub entry_id: String,
    pub account: String,
    /// Added to the account (negative: taken).
    pub credits: i64,
    /// The account whose subject (`ledger.<account>`) holds the event.
    pub subject: String,
    /// The event's LEDGER stream sequence.
    pub sequence: i64,
    pub event_id: String,
    pub event_type: String,
    pub correlation_id: String,
    /// The event that caused this one (e.g. the conversation event charged).
    pub causation_id: Option<String>,
    pub conversation_id: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

impl LedgerEntry {
    pub fn of(document: &Document) -> Self {
        Self {
            entry_id: fields::text(document, "_id").unwrap_or_default(),
            account: fields::text(document, "account").unwrap_or_default(),
            credits: fields::int(document, "credits"),
            subject: fields::text(document, "subject").unwrap_or_default(),
            sequence: fields::int(document, "sequence"),
            event_id: fields::text(document, "eventId").unwrap_or_default(),
            event_type: fields::text(document, "eventType").unwrap_or_default(),
            correlation_id: fields::text(document, "correlationId").unwrap_or_default(),
            causation_id: fields::text(document, "causationId"),
            conversation_id: fields::text(document, "conversationId"),
            occurred_at: fields::time(document, "occurredAt"),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EntriesPage {
    pub items: Vec<LedgerEntry>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// One account's postings in log order, each with its event, causation and stream sequence (finance, admin).
#[utoipa::path(get, path = "/api/ledger/accounts/{accountId}/entries", tag = "ledger",
    params(("accountId" = String, Path, description = "`user-<id>` or `system-<name>`"), EntriesQuery),
    responses(
        (status = 200, body = EntriesPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not finance or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn account_entries(
    State(state): State<AppState>,
    _: Finance,
    Path(account): Path<String>,
    ApiQuery(query): ApiQuery<EntriesQuery>,
) -> Result<Json<EntriesPage>, ApiError> {
    let account = path::account(&account)?.to_string();
    let size = page::size(query.page_size)?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let after: Option<(i64, String)> = page::decode(query.cursor.as_deref())?;
    let known = state
        .reads
        .ledger_accounts()
        .find_one(doc! { "_id": account.as_str() })
        .projection(doc! { "_id": 1 })
        .await
        .map_err(read_failed)?;
    if known.is_none() {
        return Err(ApiError::NotFound("account"));
    }
    let mut filter = doc! { "account": account.as_str() };
    window.restrict(&mut filter, "occurredAt");
    if let Some((sequence, id)) = after {
        filter.insert(
            "$or",
            vec![
                doc! { "sequence": { "$gt": sequence } },
                doc! { "sequence": sequence, "_id": { "$gt": id } },
            ],
        );
    }
    let found: Vec<Document> = state
        .reads
        .ledger_entries()
        .find(filter)
        .sort(doc! { "sequence": 1, "_id": 1 })
        .limit(i64::from(size) + 1)
        .await
        .map_err(read_failed)?
        .try_collect()
        .await
        .map_err(read_failed)?;
    let (found, has_more) = page::split(found, size);
    let items: Vec<LedgerEntry> = found.iter().map(LedgerEntry::of).collect();
    let next_cursor = has_more
        .then(|| {
            items
                .last()
                .map(|e| page::encode(&(e.sequence, e.entry_id.clone())))
        })
        .flatten();
    Ok(Json(EntriesPage {
        items,
        next_cursor,
        has_more,
    }))
}
