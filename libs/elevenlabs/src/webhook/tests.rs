//! Vectors computed here with `hmac`/`sha2` directly, independent of the
//! verifier's code path.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::*;

const SECRET: &str = "wsec_0123456789abcdef";
const NOW: i64 = 1_760_000_000;
const TOLERANCE: Duration = DEFAULT_TOLERANCE;

fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn body() -> Vec<u8> {
    serde_json::json!({
        "type": "post_call_transcription",
        "event_timestamp": NOW,
        "data": {
            "agent_id": "agent_1", "conversation_id": "conv_1", "status": "done",
            "transcript": [{"role":"agent","message":"Hi","time_in_call_secs":0},
                           {"role":"user","message":"Bye","time_in_call_secs":3.0}],
            "metadata": {"start_time_unix_secs": NOW - 30, "call_duration_secs": 22, "cost": 296,
                         "charging": {"tier":"business","call_charge":296,"llm_price":0.001}},
            "analysis": {"call_successful":"success","transcript_summary":"short",
                         "evaluation_criteria_results":{"c1":{"criteria_id":"c1","result":"failure","rationale":"r"}}},
            "has_audio": true, "new_top_level_field": 1
        }
    })
    .to_string()
    .into_bytes()
}

fn check(header: Option<&str>, body: &[u8], secret: &str) -> Result<(), WebhookError> {
    verify_at(header, body, &WebhookSecret::new(secret), NOW, TOLERANCE)
}

#[test]
fn a_valid_signature_verifies() {
    let body = body();
    let header = sign(SECRET, NOW - 5, &body);
    check(Some(&header), &body, SECRET).unwrap();
    // Spaces after commas and the other field order are accepted too.
    let (t, v0) = header.split_once(',').unwrap();
    check(Some(&format!("{v0}, {t}")), &body, SECRET).unwrap();
}

#[test]
fn the_known_vector_matches() {
    // HMAC-SHA256 of "1700000000.{}" keyed "secret", computed with openssl:
    // printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
    let header = sign("secret", 1_700_000_000, b"{}");
    assert_eq!(
        header,
        "t=1700000000,v0=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
    );
    let secret = WebhookSecret::new("secret");
    verify_at(Some(&header), b"{}", &secret, 1_700_000_000, TOLERANCE).unwrap();
}

#[test]
fn rejections_are_typed() {
    let body = body();
    let good = sign(SECRET, NOW, &body);
    assert!(matches!(
        check(None, &body, SECRET),
        Err(WebhookError::MissingHeader)
    ));
    assert!(matches!(
        check(Some("  "), &body, SECRET),
        Err(WebhookError::MissingHeader)
    ));
    assert!(matches!(
        check(Some("v0=abcd"), &body, SECRET),
        Err(WebhookError::MalformedHeader(_))
    ));
    assert!(matches!(
        check(Some(&format!("t={NOW}")), &body, SECRET),
        Err(WebhookError::MalformedHeader(_))
    ));
    assert!(matches!(
        check(Some("t=soon,v0=abcd"), &body, SECRET),
        Err(WebhookError::MalformedHeader(_))
    ));
    let old = sign(SECRET, NOW - 31 * 60, &body);
    assert!(matches!(
        check(Some(&old), &body, SECRET),
        Err(WebhookError::Expired { age_secs, .. }) if age_secs == 31 * 60
    ));
    let ahead = sign(SECRET, NOW + 31 * 60, &body);
    assert!(matches!(
        check(Some(&ahead), &body, SECRET),
        Err(WebhookError::FromTheFuture { .. })
    ));
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert!(matches!(
        check(Some(&good), &tampered, SECRET),
        Err(WebhookError::BadSignature)
    ));
    assert!(matches!(
        check(Some(&good), &body, "wsec_other_secret_00"),
        Err(WebhookError::BadSignature)
    ));
    let not_hex = format!("t={NOW},v0=zz");
    assert!(matches!(
        check(Some(&not_hex), &body, SECRET),
        Err(WebhookError::BadSignature)
    ));
    // The signed timestamp is part of the MAC: moving `t` breaks it.
    let moved = good.replacen(&format!("t={NOW}"), &format!("t={}", NOW - 1), 1);
    assert!(matches!(
        check(Some(&moved), &body, SECRET),
        Err(WebhookError::BadSignature)
    ));
}

#[test]
fn within_tolerance_at_the_edge() {
    let body = body();
    let edge = sign(SECRET, NOW - 30 * 60, &body);
    check(Some(&edge), &body, SECRET).unwrap();
}

#[test]
fn envelopes_parse() {
    let event = parse_event(&body()).unwrap();
    assert_eq!(event.event_timestamp, NOW);
    let WebhookPayload::PostCallTranscription(details) = event.payload else {
        panic!("wrong payload");
    };
    assert_eq!(details.conversation_id, "conv_1");
    assert_eq!(details.metadata.cost, Some(296));
    assert_eq!(details.transcript[1].time_in_call_secs, 3);
    assert_eq!(
        details.analysis.unwrap().call_successful,
        crate::rest::Outcome::Success
    );

    let audio = serde_json::json!({"type":"post_call_audio","event_timestamp":NOW,
        "data":{"agent_id":"a","conversation_id":"c","full_audio":"SUQz"}});
    let event = parse_event(audio.to_string().as_bytes()).unwrap();
    assert!(
        matches!(event.payload, WebhookPayload::PostCallAudio(ref a) if a.full_audio == "SUQz")
    );

    let failure = serde_json::json!({"type":"call_initiation_failure","event_timestamp":NOW,
        "data":{"agent_id":"a","conversation_id":"c","failure_reason":"busy",
                "metadata":{"type":"sip","body":{"sip_status_code":486,"error_reason":"busy","call_sid":"x"}}}});
    let event = parse_event(failure.to_string().as_bytes()).unwrap();
    assert!(
        matches!(event.payload, WebhookPayload::CallInitiationFailure(ref f) if f.failure_reason == "busy")
    );

    let other = serde_json::json!({"type":"post_call_something","data":{}});
    let event = parse_event(other.to_string().as_bytes()).unwrap();
    assert_eq!(event.payload, WebhookPayload::Other(other));
    assert!(matches!(
        parse_event(b"{]"),
        Err(WebhookError::InvalidPayload(_))
    ));
}

#[test]
fn construct_event_verifies_first() {
    let body = body();
    let secret = WebhookSecret::new(SECRET);
    assert!(matches!(
        construct_event(None, &body, &secret),
        Err(WebhookError::MissingHeader)
    ));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let header = sign(SECRET, now, &body);
    assert!(construct_event(Some(&header), &body, &secret).is_ok());
}
