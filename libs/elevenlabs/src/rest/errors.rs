//! Mapping error responses: `{"detail":{"status":…,"message":…}}`, a plain
//! string `detail`, or the 422 list `{"detail":[{"loc","msg","type"}]}`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use crate::error::RestError;

/// `Retry-After` in seconds (the HTTP-date form is not used by ElevenLabs as
/// far as is known, and falls back to backoff).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = text.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

pub(super) fn from_response(
    status: StatusCode,
    retry_after: Option<Duration>,
    attempts: u32,
    body: &[u8],
) -> RestError {
    let detail = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|mut value| value.get_mut("detail").map(Value::take));
    let (detail_status, message) = status_and_message(detail.as_ref(), body);
    let detail_status = detail_status.unwrap_or_else(|| {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_lowercase()
            .replace(' ', "_")
    });
    match status {
        StatusCode::UNAUTHORIZED => RestError::Unauthorized {
            status: detail_status,
            message,
        },
        StatusCode::NOT_FOUND => RestError::NotFound { message },
        StatusCode::UNPROCESSABLE_ENTITY => RestError::Validation {
            issues: detail
                .and_then(|detail| serde_json::from_value(detail).ok())
                .unwrap_or_default(),
        },
        StatusCode::TOO_MANY_REQUESTS => RestError::RateLimited {
            status: detail_status,
            retry_after,
            attempts,
        },
        other => RestError::Api {
            http_status: other.as_u16(),
            status: detail_status,
            message,
        },
    }
}

fn status_and_message(detail: Option<&Value>, body: &[u8]) -> (Option<String>, String) {
    match detail {
        Some(Value::Object(object)) => (
            object
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            object
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        Some(Value::String(message)) => (None, message.clone()),
        _ => (None, String::from_utf8_lossy(body).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_documented_shapes() {
        let body = br#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#;
        match from_response(StatusCode::UNAUTHORIZED, None, 1, body) {
            RestError::Unauthorized { status, message } => {
                assert_eq!(status, "invalid_api_key");
                assert_eq!(message, "Invalid API key");
            }
            other => panic!("unexpected {other:?}"),
        }
        let body =
            br#"{"detail":[{"loc":["query","page_size"],"msg":"too big","type":"value_error"}]}"#;
        match from_response(StatusCode::UNPROCESSABLE_ENTITY, None, 1, body) {
            RestError::Validation { issues } => {
                assert_eq!(issues.len(), 1);
                assert_eq!(issues[0].msg, "too big");
                assert_eq!(issues[0].kind, "value_error");
            }
            other => panic!("unexpected {other:?}"),
        }
        let body = br#"{"detail":"Conversation not found"}"#;
        assert!(matches!(
            from_response(StatusCode::NOT_FOUND, None, 1, body),
            RestError::NotFound { message } if message == "Conversation not found"
        ));
        let body = br#"{"detail":{"status":"system_busy","message":"busy"}}"#;
        assert!(matches!(
            from_response(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(2)), 3, body),
            RestError::RateLimited { status, retry_after: Some(_), attempts: 3 } if status == "system_busy"
        ));
        assert!(matches!(
            from_response(StatusCode::BAD_GATEWAY, None, 1, b"oops"),
            RestError::Api { http_status: 502, message, .. } if message == "oops"
        ));
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
