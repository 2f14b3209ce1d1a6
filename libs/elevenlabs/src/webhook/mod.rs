//! Post-call webhooks (§3): verifying `ElevenLabs-Signature` and parsing the
//! envelope. Verification follows the SDKs exactly: `t=<secs>,v0=<hex>`,
//! HMAC-SHA256 of `"<t>.<raw body>"` keyed by the secret's UTF-8 bytes,
//! constant-time comparison, 30-minute tolerance (applied to future skew too).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::error::WebhookError;
use crate::rest::ConversationDetails;
use crate::secret::WebhookSecret;

/// The header's name (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "ElevenLabs-Signature";
/// How old (or how far ahead) a timestamp may be.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(30 * 60);

/// `{"type": …, "event_timestamp": …, "data": {…}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub event_timestamp: i64,
    pub payload: WebhookPayload,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WebhookPayload {
    /// `data` has the shape of `GET /v1/convai/conversations/{id}`.
    PostCallTranscription(Box<ConversationDetails>),
    PostCallAudio(PostCallAudio),
    CallInitiationFailure(CallInitiationFailure),
    /// Another `type`, kept whole (the full envelope).
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCallAudio {
    pub agent_id: String,
    pub conversation_id: String,
    /// Base64 of the MP3 of the whole call.
    pub full_audio: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallInitiationFailure {
    pub agent_id: String,
    pub conversation_id: String,
    /// `busy`, `no-answer` or `unknown`.
    pub failure_reason: String,
    /// `{type: "twilio"|"sip", body: {…}}`, kept raw.
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// Verifies a request against `secret` at the current time.
pub fn verify(
    signature_header: Option<&str>,
    body: &[u8],
    secret: &WebhookSecret,
) -> Result<(), WebhookError> {
    verify_at(
        signature_header,
        body,
        secret,
        now_unix_secs(),
        DEFAULT_TOLERANCE,
    )
}

/// Verifies, then parses the envelope.
pub fn construct_event(
    signature_header: Option<&str>,
    body: &[u8],
    secret: &WebhookSecret,
) -> Result<WebhookEvent, WebhookError> {
    verify(signature_header, body, secret)?;
    parse_event(body)
}

/// Verification with an explicit clock and tolerance.
pub fn verify_at(
    signature_header: Option<&str>,
    body: &[u8],
    secret: &WebhookSecret,
    now_unix_secs: i64,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let header = signature_header
        .map(str::trim)
        .filter(|header| !header.is_empty())
        .ok_or(WebhookError::MissingHeader)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',').map(str::trim) {
        if let Some(value) = part.strip_prefix("t=") {
            timestamp = Some(value);
        } else if let Some(value) = part.strip_prefix("v0=") {
            signatures.push(value);
        }
    }
    let timestamp_text = timestamp.ok_or(WebhookError::MalformedHeader("no t= timestamp"))?;
    let timestamp: i64 = timestamp_text
        .parse()
        .map_err(|_| WebhookError::MalformedHeader("t= is not an integer"))?;
    if signatures.is_empty() {
        return Err(WebhookError::MalformedHeader(
            "No signature hash found with expected scheme v0",
        ));
    }
    let tolerance_secs = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let age_secs = now_unix_secs.saturating_sub(timestamp);
    if age_secs > tolerance_secs {
        return Err(WebhookError::Expired {
            timestamp,
            age_secs,
        });
    }
    // Its own subtraction: negating a saturated age would overflow.
    let ahead_secs = timestamp.saturating_sub(now_unix_secs);
    if ahead_secs > tolerance_secs {
        return Err(WebhookError::FromTheFuture {
            timestamp,
            ahead_secs,
        });
    }
    // The timestamp is signed as the text that was sent, not as reformatted.
    let matches = signatures.iter().any(|signature| {
        let Ok(expected) = hex::decode(signature) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
            return false;
        };
        mac.update(timestamp_text.as_bytes());
        mac.update(b".");
        mac.update(body);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&expected).is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

/// Parses an envelope without verifying it (for already-verified bodies).
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let mut raw: Value = serde_json::from_slice(body).map_err(WebhookError::InvalidPayload)?;
    let kind = raw
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| WebhookError::InvalidPayload(serde::de::Error::custom("no `type`")))?;
    let event_timestamp = raw
        .get("event_timestamp")
        .and_then(|stamp| {
            stamp
                .as_i64()
                .or_else(|| stamp.as_f64().map(|secs| secs as i64))
        })
        .unwrap_or_default();
    let mut data = || raw.get_mut("data").map(Value::take).unwrap_or_default();
    let payload = match kind.as_str() {
        "post_call_transcription" => WebhookPayload::PostCallTranscription(Box::new(
            serde_json::from_value(data()).map_err(WebhookError::InvalidPayload)?,
        )),
        "post_call_audio" => WebhookPayload::PostCallAudio(
            serde_json::from_value(data()).map_err(WebhookError::InvalidPayload)?,
        ),
        "call_initiation_failure" => WebhookPayload::CallInitiationFailure(
            serde_json::from_value(data()).map_err(WebhookError::InvalidPayload)?,
        ),
        _ => WebhookPayload::Other(raw),
    };
    Ok(WebhookEvent {
        event_timestamp,
        payload,
    })
}

fn now_unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
