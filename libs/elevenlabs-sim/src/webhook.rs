//! Post-call webhooks (§3): the `ElevenLabs-Signature` header and delivery
//! with the configured retry policy.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::WebhookConfig;
use crate::event::SimEvent;
use crate::state::Shared;

/// The header carrying the signature.
pub(crate) const SIGNATURE_HEADER: &str = "ElevenLabs-Signature";

/// `t=<unix secs>,v0=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub(crate) fn signature_header(secret: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v0={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// POSTs `body` to the webhook, retrying as configured, and reports the
/// result as a [`SimEvent`].
pub(crate) async fn deliver(
    shared: Arc<Shared>,
    config: WebhookConfig,
    conversation_id: String,
    body: Vec<u8>,
) {
    let attempts = config.retry.max_attempts.max(1);
    let mut backoff = config.retry.initial_backoff;
    let mut last_error = String::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
        let header = signature_header(&config.secret, unix_now(), &body);
        let sent = shared
            .http
            .post(&config.url)
            .header(SIGNATURE_HEADER, header)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(config.retry.timeout)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                shared.emit(SimEvent::WebhookDelivered {
                    conversation_id,
                    attempt,
                });
                return;
            }
            Ok(response) => last_error = format!("HTTP {}", response.status()),
            Err(error) => last_error = error.to_string(),
        }
        tracing::debug!(%conversation_id, attempt, error = %last_error, "webhook attempt failed");
    }
    shared.emit(SimEvent::WebhookFailed {
        conversation_id,
        attempts,
        error: last_error,
    });
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // HMAC-SHA256("secret", "1700000000.{}") computed with Python's hmac.
        let header = signature_header("secret", 1_700_000_000, b"{}");
        assert_eq!(
            header,
            "t=1700000000,v0=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}
