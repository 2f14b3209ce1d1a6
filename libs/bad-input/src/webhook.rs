//! ElevenLabs webhooks: the bytes are the `ElevenLabs-Signature` header, a
//! newline, then the body (no newline: no header, all body).

use std::time::Duration;

use elevenlabs::WebhookSecret;
use elevenlabs::webhook::{self, DEFAULT_TOLERANCE};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret the targets verify with; corpus headers are signed with it.
pub const SECRET: &str = "wsec_bad_input";
/// The verifier's clock: corpus headers carry timestamps near it.
pub const NOW: i64 = 1_760_000_000;

/// The header that signs `body` at `t`, as ElevenLabs sends it.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    format!(
        "t={t},v0={}",
        hex::encode(mac(secret, &t.to_string(), body))
    )
}

fn mac(secret: &str, t: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn verify(header: &str, body: &[u8], secret: &str, tolerance: Duration) -> bool {
    webhook::verify_at(
        Some(header),
        body,
        &WebhookSecret::new(secret),
        NOW,
        tolerance,
    )
    .is_ok()
}

/// The verifier never panics on any header or body, accepts a header only
/// when one of its `v0=` values is the body's true signature at its (last)
/// `t=`, accepts the body signed now, and refuses it signed with another
/// secret; the envelope parser never panics on the body.
pub fn webhook_verifier(data: &[u8]) {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[][..], data),
    };
    let header = String::from_utf8_lossy(header);
    for tolerance in [DEFAULT_TOLERANCE, Duration::MAX] {
        if verify(&header, body, SECRET, tolerance) {
            assert!(
                genuine(&header, body),
                "accepted a forged header {header:?}"
            );
        }
    }
    assert!(verify(
        &sign(SECRET, NOW, body),
        body,
        SECRET,
        DEFAULT_TOLERANCE
    ));
    assert!(!verify(
        &sign("wsec_another", NOW, body),
        body,
        SECRET,
        DEFAULT_TOLERANCE
    ));
    let _ = webhook::parse_event(body);
}

/// Whether the header carries the body's true signature, read the way
/// ElevenLabs writes it: comma-separated, trimmed, the last `t=` counts.
fn genuine(header: &str, body: &[u8]) -> bool {
    let parts: Vec<&str> = header.trim().split(',').map(str::trim).collect();
    let Some(t) = parts.iter().rev().find_map(|part| part.strip_prefix("t=")) else {
        return false;
    };
    let expected = mac(SECRET, t, body);
    parts
        .iter()
        .filter_map(|part| part.strip_prefix("v0="))
        .any(|signature| hex::decode(signature).is_ok_and(|bytes| bytes == expected))
}
