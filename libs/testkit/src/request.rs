//! Asking a service over core NATS until one is there to answer.

use std::time::Duration;

use tokio::time::Instant;

/// How long one request waits for its reply.
const REPLY_WAIT: Duration = Duration::from_millis(500);
/// Pause between asks while no service is subscribed yet.
const PACE: Duration = Duration::from_millis(20);

/// Sends `body` to `subject` until a service replies, at a steady pace,
/// and returns the reply; `None` if nobody answered before `within`.
/// For waiting until a service under test has started, without sleeping
/// for a guessed time.
pub async fn until_answered(
    client: &async_nats::Client,
    subject: &str,
    body: &[u8],
    within: Duration,
) -> Option<async_nats::Message> {
    let deadline = Instant::now() + within;
    let mut pace = tokio::time::interval(PACE);
    while Instant::now() < deadline {
        pace.tick().await;
        let asked = client.request(subject.to_owned(), body.to_vec().into());
        if let Ok(Ok(reply)) = tokio::time::timeout(REPLY_WAIT, asked).await {
            return Some(reply);
        }
    }
    None
}
