//! Dashboard reads: `GET /api/conversations` (filters by agent, user,
//! status, time range and text in what was said; cursor paging) and
//! `GET /api/conversations/{id}` (the whole document with every message,
//! metrics, metadata, analysis, sentiment and its ledger trail). A user
//! sees their own conversations, an admin everyone's; another user's is 404.
//! Finance sees everyone's as money: never what was said (no transcript,
//! messages, metadata, analysis or sentiment of another user's call, and no
//! text search `q`).

pub mod fetch;
pub mod query;
mod render;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bson::DateTime;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::conversation_ref::ConversationRef;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use query::{Cursor, Filter, Order, ParamError, Scope, Search, Status, page_size};
use render::{ConversationDocument, ConversationPage};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation))
}

/// The dashboard's filters; an unknown parameter is refused, so a typo
/// never silently widens a listing.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(rename = "agentId")]
    #[param(rename = "agentId")]
    agent_id: Option<String>,
    /// A user id, within what the caller may see.
    #[serde(rename = "userId")]
    #[param(rename = "userId")]
    user_id: Option<String>,
    /// `initiated`, `in-progress`, `processing`, `done` or `failed`.
    status: Option<String>,
    /// RFC 3339: started at or after.
    from: Option<String>,
    /// RFC 3339: started before.
    to: Option<String>,
    /// Case-insensitive text in what was said (1–200 characters).
    q: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 100, default 30.
    #[param(value_type = Option<u32>)]
    page_size: Option<String>,
}

/// The caller's conversations, newest first; finance's are everyone's, without sentiment of others' and without `q`.
#[utoipa::path(get, path = "/api/conversations", tag = "conversations",
    params(ListParams),
    responses(
        (status = 200, body = ConversationPage),
        (status = 400, body = Problem, content_type = "application/problem+json",
            description = "A parameter is malformed or unknown"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json",
            description = "Finance searching what was said (q)"),
    ))]
async fn list_conversations(
    principal: Principal,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ConversationPage>, ApiError> {
    if params.q.is_some() {
        principal.require_transcript_search()?;
    }
    let page_size = page_size(params.page_size.as_deref()).map_err(bad)?;
    let cursor = params
        .cursor
        .as_deref()
        .map(Cursor::decode)
        .transpose()
        .map_err(bad)?;
    let filter = Filter {
        agent_id: params.agent_id,
        user_id: params.user_id,
        status: params
            .status
            .as_deref()
            .map(|s| {
                Status::parse(s).ok_or(ParamError::Invalid {
                    name: "status",
                    expected: "initiated, in-progress, processing, done or failed",
                })
            })
            .transpose()
            .map_err(bad)?,
        from: rfc3339(params.from.as_deref(), "from")?,
        to: rfc3339(params.to.as_deref(), "to")?,
        search: params
            .q
            .as_deref()
            .map(Search::new)
            .transpose()
            .map_err(bad)?,
        ..Filter::default()
    };
    let page = fetch::page(
        &state.reads,
        Scope::money(&principal),
        filter,
        cursor.as_ref(),
        Order::NewestFirst,
        page_size,
        render::item_projection(),
    )
    .await?;
    Ok(Json(ConversationPage {
        conversations: page
            .documents
            .iter()
            .map(|d| render::item(d, reads_what_was_said(&principal, d)))
            .collect(),
        has_more: page.next.is_some(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// One conversation whole, by Parlor's id or ElevenLabs' `conv_…` id. Finance reads anyone's without what was said (transcript, messages, metadata, analysis and sentiment are null).
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Parlor's 24-hex id or ElevenLabs' conv_ id")),
    responses(
        (status = 200, body = ConversationDocument),
        (status = 400, body = Problem, content_type = "application/problem+json",
            description = "The id is neither kind"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json",
            description = "No such conversation, or not the caller's"),
    ))]
async fn get_conversation(
    principal: Principal,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ConversationDocument>, ApiError> {
    let reference = ConversationRef::parse_field(&path_segment(id)?, "id")?;
    let document = fetch::one(&state.reads, Scope::money(&principal), &reference)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    let messages = if reads_what_was_said(&principal, &document) {
        Some(fetch::messages(&state.reads, &document).await?)
    } else {
        None
    };
    let id = document.get_object_id("_id").map_err(ApiError::internal)?;
    let ledger = fetch::ledger_trail(&state.reads, id).await?;
    Ok(Json(render::document(
        &document,
        messages.as_deref(),
        &ledger,
    )))
}

/// Whether `principal` may read what was said in `document`'s conversation.
pub fn reads_what_was_said(principal: &Principal, document: &bson::Document) -> bool {
    document.get_object_id("userId").is_ok_and(|owner| {
        principal.sees_conversations_of(events::UserId::from_bytes(owner.bytes()))
    })
}

/// A path segment, refused as problem+json when it is not UTF-8.
pub fn path_segment(given: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    given
        .map(|Path(segment)| segment)
        .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
}

fn bad(error: ParamError) -> ApiError {
    ApiError::BadRequest(error.to_string())
}

fn rfc3339(given: Option<&str>, name: &'static str) -> Result<Option<DateTime>, ApiError> {
    given
        .map(|t| {
            DateTime::parse_rfc3339_str(t.trim()).map_err(|_| {
                bad(ParamError::Invalid {
                    name,
                    expected: "an RFC 3339 time",
                })
            })
        })
        .transpose()
}
