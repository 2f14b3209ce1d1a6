//! 429 handling against a scripted local server: `Retry-After` is honoured,
//! a too-long one is returned at once, attempts are bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use elevenlabs::{ApiKey, Endpoints, RestClient, RestError, RetryPolicy};

/// Serves get-signed-url: `refusals` 429s carrying `retry_after`, then 200.
/// Returns the base URL and the request counter.
async fn server(refusals: u32, retry_after: &'static str) -> (String, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let handler = move || {
        let counter = counter.clone();
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            if n < refusals {
                let body = r#"{"detail":{"status":"system_busy","message":"busy"}}"#;
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, retry_after)],
                    body,
                )
                    .into_response()
            } else {
                r#"{"signed_url":"wss://example.invalid/v1/convai/conversation?agent_id=a&conversation_signature=s"}"#
                    .into_response()
            }
        }
    };
    let app = axum::Router::new().route(
        "/v1/convai/conversation/get-signed-url",
        axum::routing::get(handler),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), hits)
}

fn client(base: &str, policy: RetryPolicy) -> RestClient {
    let endpoints = Endpoints::from_http_base(base).unwrap();
    RestClient::new(endpoints, ApiKey::new("sk_test"), policy).unwrap()
}

#[tokio::test]
async fn retry_after_is_honoured_until_success() {
    let (base, hits) = server(2, "0").await;
    let url = client(&base, RetryPolicy::default())
        .get_signed_url("a")
        .await
        .unwrap();
    assert_eq!(url.scheme(), "wss");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_returned_at_once() {
    let (base, hits) = server(1, "3600").await;
    match client(&base, RetryPolicy::default())
        .get_signed_url("a")
        .await
    {
        Err(RestError::RateLimited {
            status,
            retry_after,
            attempts,
        }) => {
            assert_eq!(status, "system_busy");
            assert_eq!(retry_after, Some(Duration::from_secs(3600)));
            assert_eq!(attempts, 1);
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let (base, hits) = server(u32::MAX, "0").await;
    let policy = RetryPolicy {
        max_attempts: 4,
        ..RetryPolicy::default()
    };
    let outcome = client(&base, policy).get_signed_url("a").await;
    assert!(matches!(
        outcome,
        Err(RestError::RateLimited { attempts: 4, .. })
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}
