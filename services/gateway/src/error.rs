//! `ApiError`: every HTTP error the gateway answers, as
//! `application/problem+json` (RFC 9457: type, title, status, detail).

use axum::Json;
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no credential, or one that does not check out.
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// 400: a parameter is missing or malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 426: the conversation endpoint only speaks WebSocket.
    #[error("this endpoint speaks WebSocket only; send an Upgrade request")]
    UpgradeRequired,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "urn:parlor:problem:unauthorized",
                "Unauthorized",
            ),
            Self::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "urn:parlor:problem:bad-request",
                "Bad request",
            ),
            Self::UpgradeRequired => (
                StatusCode::UPGRADE_REQUIRED,
                "urn:parlor:problem:upgrade-required",
                "WebSocket upgrade required",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.parts();
        let problem = Problem {
            kind,
            title,
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
            _ => {}
        }
        response
    }
}
