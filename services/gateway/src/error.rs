//! `ApiError`: every HTTP error the gateway answers, as
//! `application/problem+json` (RFC 9457: type, title, status, detail).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

use crate::auth::AuthError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no credential, or one that does not check out.
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// 403: the caller's role may not use this route at all. Never used for
    /// another user's data, which is [`ApiError::NotFound`] so ids cannot be
    /// probed.
    #[error("this route needs the {needs} role")]
    Forbidden { needs: &'static str },
    /// 403: a part of a route the caller's role may not use (the reason).
    #[error("{0}")]
    Withheld(&'static str),
    /// 404: no such resource, or not the caller's.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404 for a path no route serves.
    #[error("no route for {0}")]
    NoRoute(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// 400: a parameter or body is missing or malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 406: the `Accept` header allows nothing the route produces (it names what it does).
    #[error("cannot answer in a type the Accept header allows; this route produces {0}")]
    NotAcceptable(&'static str),
    /// 409: the request contradicts what is already recorded.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the route accepts.
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not `application/json`.
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// 422: well-formed JSON that breaks the route's rules.
    #[error("{0}")]
    Unprocessable(String),
    /// 426: the conversation endpoint only speaks WebSocket.
    #[error("this endpoint speaks WebSocket only; send an Upgrade request")]
    UpgradeRequired,
    /// 429: over a rate or a cap; try again after `retry_after`.
    #[error("{reason}")]
    TooManyRequests {
        reason: String,
        retry_after: Duration,
    },
    /// 503: a dependency (NATS, MongoDB, a service) is not answering.
    #[error("{0} is unavailable, try again")]
    Unavailable(&'static str),
    /// 500: logged with its source; the client sees no internals.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(source))
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden { .. } | Self::Withheld(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) | Self::NoRoute(_) => (StatusCode::NOT_FOUND, "not-found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            Self::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "not-acceptable"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            Self::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            Self::UpgradeRequired => (StatusCode::UPGRADE_REQUIRED, "upgrade-required"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The problem+json body (RFC 9457).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:parlor:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person to read.
    pub detail: String,
}

/// OpenAPI responses of `application/problem+json` bodies, one per
/// `(status, description)`: what routes that fail alike share through a
/// `utoipa::IntoResponses` type.
pub fn problem_responses(
    problems: &[(u16, &str)],
) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    problems
        .iter()
        .map(|(status, description)| {
            let content = Content::new(Some(Ref::from_schema_name("Problem")));
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/problem+json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug) = self.parts();
        if let Self::Internal(source) = &self {
            tracing::error!(error = %source, "request failed");
        }
        let problem = Problem {
            kind: format!("urn:parlor:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Self::Unauthorized(_) => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::UpgradeRequired => {
                headers.insert("upgrade", HeaderValue::from_static("websocket"));
            }
            Self::TooManyRequests { retry_after, .. } => {
                // Whole seconds, rounded up so a client never retries early.
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                headers.insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            _ => {}
        }
        response
    }
}
