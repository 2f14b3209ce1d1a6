//! `POST /webhooks/elevenlabs`: ElevenLabs' post-call webhooks.
//!
//! The `ElevenLabs-Signature` header is checked against
//! `ELEVENLABS_WEBHOOK_SECRET` before the body is looked at; a missing,
//! bad or stale signature is 401 and nothing is recorded. A verified
//! `post_call_transcription` goes to the session service as ElevenLabs'
//! record (`cmd.session.record`), which appends the cost and analysis only
//! if the conversation has none yet: ElevenLabs' retries and the session's
//! own fetch of the same record count once. `call_initiation_failure`
//! fails a conversation that is not over; `post_call_audio` is accepted
//! and dropped (audio never enters the log).
//!
//! An ElevenLabs id Parlor does not know (no conversation under it) is
//! answered 200 and logged: ElevenLabs disables a webhook that keeps
//! failing, and an unknown conversation will not become known by retrying
//! (a client-side one's record is fetched when its transcript arrives).

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use elevenlabs::webhook::{self, SIGNATURE_HEADER};
use elevenlabs::{WebhookEvent, WebhookPayload};
use events::command::{Record, RecordConversation, RecordOutcome, Recorded, subject};
use events::{ConversationId, CorrelationId};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::conversation_ref::ConversationRef;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The largest webhook body taken (`post_call_audio` carries a whole call's MP3).
pub const MAX_WEBHOOK_BYTES: usize = 32 * 1024 * 1024;
/// How long the session service may take to record a webhook.
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(elevenlabs_webhook))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookAnswer {
    /// `recorded`, `duplicate` (already in the log) or `ignored`.
    status: &'static str,
}

/// Takes one ElevenLabs webhook (signed with the shared secret).
#[utoipa::path(post, path = "/webhooks/elevenlabs", tag = "webhooks",
    request_body(content = Object, description = "ElevenLabs' webhook envelope `{type, event_timestamp, data}`"),
    params(("ElevenLabs-Signature" = String, Header, description = "`t=<unix secs>,v0=<hex HMAC-SHA256>`")),
    responses(
        (status = 200, body = WebhookAnswer),
        (status = 400, description = "verified, but not a webhook envelope",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "missing, bad or stale signature",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "no secret configured, or the session service did not answer",
            body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn elevenlabs_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAnswer>, Response> {
    let Some(secret) = state.webhook_secret.as_deref() else {
        tracing::warn!("a webhook arrived but ELEVENLABS_WEBHOOK_SECRET is not set");
        return Err(ApiError::Unavailable("webhook intake (no secret configured)").into_response());
    };
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    if let Err(error) = webhook::verify(signature, &body, secret) {
        tracing::warn!(%error, "webhook refused");
        return Err(unauthorized(&error.to_string()));
    }
    let event = webhook::parse_event(&body)
        .map_err(|error| ApiError::BadRequest(error.to_string()).into_response())?;
    take(&state, event)
        .await
        .map(|status| Json(WebhookAnswer { status }))
        .map_err(IntoResponse::into_response)
}

async fn take(state: &AppState, event: WebhookEvent) -> Result<&'static str, ApiError> {
    match event.payload {
        WebhookPayload::PostCallTranscription(details) => {
            let elevenlabs_id = details.conversation_id.clone();
            let details = serde_json::to_value(&*details).map_err(ApiError::internal)?;
            record(state, &elevenlabs_id, Record::ElevenLabsRecord { details }).await
        }
        WebhookPayload::CallInitiationFailure(failure) => {
            let record = Record::InitiationFailed {
                reason: failure.failure_reason,
            };
            self::record(state, &failure.conversation_id, record).await
        }
        WebhookPayload::PostCallAudio(audio) => {
            tracing::info!(
                elevenlabs_id = %audio.conversation_id,
                audio_bytes = audio.full_audio.len(),
                "post-call audio accepted and dropped"
            );
            Ok("ignored")
        }
        WebhookPayload::Other(raw) => {
            let kind = raw.get("type").and_then(|t| t.as_str()).unwrap_or_default();
            tracing::info!(kind, "a webhook of a type Parlor does not record");
            Ok("ignored")
        }
    }
}

async fn record(
    state: &AppState,
    elevenlabs_id: &str,
    record: Record,
) -> Result<&'static str, ApiError> {
    let Some(reference) = ConversationRef::parse(elevenlabs_id) else {
        tracing::warn!(
            elevenlabs_id,
            "a webhook for an id that is no conversation id; ignored"
        );
        return Ok("ignored");
    };
    let conversation_id: ConversationId = reference
        .resolve(&state.live.elevenlabs_ids, &state.reads)
        .await?;
    let command = RecordConversation {
        conversation_id,
        correlation_id: CorrelationId::new(),
        record,
    };
    let recorded: Recorded = bus::request(
        &state.nats,
        subject::SESSION_RECORD,
        &command,
        RECORD_TIMEOUT,
    )
    .await
    .map_err(|error| {
        tracing::warn!(%error, %conversation_id, elevenlabs_id, "webhook not recorded");
        match error.refusal() {
            Some(refusal) => ApiError::BadRequest(refusal.message.clone()),
            None => ApiError::Unavailable("the session service"),
        }
    })?;
    let status = match recorded.outcome {
        RecordOutcome::Recorded => "recorded",
        RecordOutcome::AlreadyRecorded => "duplicate",
        RecordOutcome::UnknownConversation => {
            tracing::warn!(elevenlabs_id, %conversation_id, "a webhook for a conversation Parlor does not know; ignored");
            "ignored"
        }
    };
    tracing::info!(
        elevenlabs_id,
        %conversation_id,
        correlation_id = %command.correlation_id,
        status,
        appended = ?recorded.appended,
        "webhook taken"
    );
    Ok(status)
}

/// 401 problem+json for a webhook whose signature does not check out.
fn unauthorized(detail: &str) -> Response {
    let status = StatusCode::UNAUTHORIZED;
    let problem = Problem {
        kind: "urn:parlor:problem:unauthorized".to_owned(),
        title: "Unauthorized".to_owned(),
        status: status.as_u16(),
        detail: format!("webhook signature refused: {detail}"),
    };
    let mut response = (status, Json(problem)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/problem+json"),
    );
    response
}
