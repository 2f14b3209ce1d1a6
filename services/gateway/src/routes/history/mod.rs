//! ElevenLabs-compatible history: `GET /v1/convai/conversations` and
//! `GET /v1/convai/conversations/{conversation_id}`, with ElevenLabs' query
//! parameters and JSON, served from the read models and scoped to the
//! caller, so the official SDKs' `conversations.list()` / `.get()` work
//! against Parlor per user.
//!
//! Errors stay problem+json: the SDKs raise their `ApiError` with whatever
//! JSON body comes, and `detail` is a string, which the JS SDK's extractor
//! reads. Bad parameters are 422, as ElevenLabs answers them (the Python
//! SDK raises `UnprocessableEntityError`); another user's conversation is 404.
//!
//! Parameters of newer SDKs that Parlor does not filter by (`tool_names`,
//! `main_languages`, `exclude_statuses`, …) are accepted and ignored.

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
use crate::routes::conversations::query::{
    Cursor, Filter, Order, ParamError, Scope, Search, Verdict, page_size,
};
use crate::routes::conversations::{fetch, path_segment};
use crate::state::AppState;
use render::{ConversationDetail, ConversationsPage};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation))
}

/// ElevenLabs' list parameters (§2.1), read as text so each is refused
/// with its own message.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    agent_id: Option<String>,
    /// `success`, `failure` or `unknown` (not yet judged counts as unknown).
    call_successful: Option<String>,
    /// Unix seconds: started before.
    #[param(value_type = Option<i64>)]
    call_start_before_unix: Option<String>,
    /// Unix seconds: started after.
    #[param(value_type = Option<i64>)]
    call_start_after_unix: Option<String>,
    /// A Parlor user id, within what the caller may see.
    user_id: Option<String>,
    /// 1 to 100, default 30.
    #[param(value_type = Option<u32>)]
    page_size: Option<String>,
    /// `exclude` (default) or `include` the transcript summaries.
    summary_mode: Option<String>,
    /// Case-insensitive text in what was said.
    search: Option<String>,
    #[param(value_type = Option<i32>)]
    call_duration_min_secs: Option<String>,
    #[param(value_type = Option<i32>)]
    call_duration_max_secs: Option<String>,
    /// `desc` (default, newest first) or `asc`.
    sort_direction: Option<String>,
}

/// The caller's conversations, newest first, in ElevenLabs' page shape.
#[utoipa::path(get, path = "/v1/convai/conversations", tag = "convai", operation_id = "convai_list_conversations",
    params(ListParams),
    responses(
        (status = 200, body = ConversationsPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json",
            description = "A parameter is malformed"),
    ))]
async fn list_conversations(
    principal: Principal,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ConversationsPage>, ApiError> {
    let page_size = page_size(params.page_size.as_deref()).map_err(invalid)?;
    let cursor = params
        .cursor
        .as_deref()
        .map(Cursor::decode)
        .transpose()
        .map_err(invalid)?;
    let include_summary = match params.summary_mode.as_deref() {
        None | Some("exclude") => false,
        Some("include") => true,
        Some(_) => return Err(invalid(expected("summary_mode", "exclude or include"))),
    };
    let order = match params.sort_direction.as_deref() {
        None | Some("desc") => Order::NewestFirst,
        Some("asc") => Order::OldestFirst,
        Some(_) => return Err(invalid(expected("sort_direction", "asc or desc"))),
    };
    let filter = Filter {
        agent_id: params.agent_id,
        user_id: params.user_id,
        verdict: params
            .call_successful
            .as_deref()
            .map(|v| {
                Verdict::parse(v).ok_or(expected("call_successful", "success, failure or unknown"))
            })
            .transpose()
            .map_err(invalid)?,
        // ElevenLabs compares whole seconds strictly: after T starts at T+1.
        from: unix_secs(
            params.call_start_after_unix.as_deref(),
            "call_start_after_unix",
        )?
        .map(|t| DateTime::from_millis(t.saturating_add(1).saturating_mul(1000))),
        to: unix_secs(
            params.call_start_before_unix.as_deref(),
            "call_start_before_unix",
        )?
        .map(|t| DateTime::from_millis(t.saturating_mul(1000))),
        min_duration_secs: secs(
            params.call_duration_min_secs.as_deref(),
            "call_duration_min_secs",
        )?,
        max_duration_secs: secs(
            params.call_duration_max_secs.as_deref(),
            "call_duration_max_secs",
        )?,
        search: params
            .search
            .as_deref()
            .map(Search::new)
            .transpose()
            .map_err(invalid)?,
        status: None,
    };
    let page = fetch::page(
        &state.reads,
        Scope::transcripts(&principal),
        filter,
        cursor.as_ref(),
        order,
        page_size,
        render::summary_projection(),
    )
    .await?;
    Ok(Json(ConversationsPage {
        conversations: page
            .documents
            .iter()
            .map(|d| render::summary(d, include_summary))
            .collect(),
        has_more: page.next.is_some(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// One of the caller's conversations, by the id the client learned over
/// the WebSocket (`conv_…`) or Parlor's id.
#[utoipa::path(get, path = "/v1/convai/conversations/{conversation_id}", tag = "convai", operation_id = "convai_get_conversation",
    params(("conversation_id" = String, Path, description = "ElevenLabs' conv_ id or Parlor's 24-hex id")),
    responses(
        (status = 200, body = ConversationDetail),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json",
            description = "No such conversation, or not the caller's"),
        (status = 422, body = Problem, content_type = "application/problem+json",
            description = "The id is neither kind"),
    ))]
async fn get_conversation(
    principal: Principal,
    State(state): State<AppState>,
    conversation_id: Result<Path<String>, PathRejection>,
) -> Result<Json<ConversationDetail>, ApiError> {
    let reference = ConversationRef::parse(&path_segment(conversation_id)?).ok_or_else(|| {
        invalid(expected(
            "conversation_id",
            "an ElevenLabs conv_ id or a 24-hex Parlor id",
        ))
    })?;
    let document = fetch::one(&state.reads, Scope::transcripts(&principal), &reference)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    let messages = fetch::messages(&state.reads, &document).await?;
    Ok(Json(render::detail(&document, &messages)))
}

fn invalid(error: ParamError) -> ApiError {
    ApiError::Unprocessable(error.to_string())
}

fn expected(name: &'static str, expected: &'static str) -> ParamError {
    ParamError::Invalid { name, expected }
}

fn unix_secs(given: Option<&str>, name: &'static str) -> Result<Option<i64>, ApiError> {
    given
        .map(|t| {
            t.trim()
                .parse::<i64>()
                .map_err(|_| invalid(expected(name, "unix seconds")))
        })
        .transpose()
}

fn secs(given: Option<&str>, name: &'static str) -> Result<Option<i32>, ApiError> {
    given
        .map(|t| {
            t.trim()
                .parse::<i32>()
                .ok()
                .filter(|s| *s >= 0)
                .ok_or_else(|| invalid(expected(name, "whole seconds")))
        })
        .transpose()
}
