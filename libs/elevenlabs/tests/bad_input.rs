//! Bad input against the wire: the message parsers and the webhook verifier
//! never panic on arbitrary text or bytes, round-trip what they accept, and
//! the verifier refuses any single-byte change to a signed body or to its
//! signature. Seeds are the frames and bodies under `tests/corpus/`, which
//! the mutations start from and which are replayed as they are.
//!
//! Bounded by proptest's `PROPTEST_CASES` (256 by default); a longer run:
//! `PROPTEST_CASES=20000 cargo test -p elevenlabs --test bad_input`.

use std::path::Path;
use std::time::Duration;

use elevenlabs::webhook::{self, DEFAULT_TOLERANCE};
use elevenlabs::{ClientMessage, ServerEvent, WebhookSecret};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::Value;
use sha2::Sha256;

const NOW: i64 = 1_760_000_000;

fn corpus_lines(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn corpus_files(dir: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read(path).expect("corpus file"))
        .collect()
}

/// Any JSON value, a few levels deep, with keys the parsers look for mixed
/// into random ones.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Any finite float: serde_json's `float_roundtrip` reads back what it wrote.
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type".to_owned()),
        Just("event_id".to_owned()),
        Just("text".to_owned()),
        Just("user_audio_chunk".to_owned()),
        "[a-z_]{1,10}",
    ]
}

/// Replaces the `n`-th node (pre-order, modulo the node count) of `value`.
fn replace_node(value: &mut Value, n: usize, with: Value) {
    fn count(value: &Value) -> usize {
        1 + match value {
            Value::Array(items) => items.iter().map(count).sum(),
            Value::Object(map) => map.values().map(count).sum(),
            _ => 0,
        }
    }
    fn walk(value: &mut Value, n: &mut usize, with: &mut Option<Value>) {
        if *n == 0 {
            if let Some(with) = with.take() {
                *value = with;
            }
            return;
        }
        *n -= 1;
        let children: Vec<&mut Value> = match value {
            Value::Array(items) => items.iter_mut().collect(),
            Value::Object(map) => map.values_mut().collect(),
            _ => Vec::new(),
        };
        for child in children {
            walk(child, n, with);
            if with.is_none() {
                return;
            }
        }
    }
    let mut n = n % count(value);
    walk(value, &mut n, &mut Some(with));
}

/// A corpus frame with a few of its nodes replaced by arbitrary JSON.
fn mutated_frame(corpus: Vec<String>) -> impl Strategy<Value = String> {
    (
        prop::sample::select(corpus),
        prop::collection::vec((any::<usize>(), json()), 1..4),
    )
        .prop_map(|(frame, edits)| {
            let Ok(mut value) = serde_json::from_str::<Value>(&frame) else {
                return frame;
            };
            for (at, with) in edits {
                replace_node(&mut value, at, with);
            }
            value.to_string()
        })
}

/// Parsing what was parsed and printed again gives the same message.
fn server_round_trips(text: &str) -> Result<(), TestCaseError> {
    if let Ok(event) = ServerEvent::parse(text) {
        let again = ServerEvent::parse(&event.to_json());
        prop_assert_eq!(
            again.as_ref().ok(),
            Some(&event),
            "printed: {}",
            event.to_json()
        );
    }
    Ok(())
}

fn client_round_trips(text: &str) -> Result<(), TestCaseError> {
    if let Ok(message) = ClientMessage::parse(text) {
        let again = ClientMessage::parse(&message.to_json());
        prop_assert_eq!(
            again.as_ref().ok(),
            Some(&message),
            "printed: {}",
            message.to_json()
        );
    }
    Ok(())
}

fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn verify(header: &str, body: &[u8], secret: &str) -> Result<(), elevenlabs::WebhookError> {
    webhook::verify_at(
        Some(header),
        body,
        &WebhookSecret::new(secret),
        NOW,
        DEFAULT_TOLERANCE,
    )
}

/// A webhook body: a corpus file, or arbitrary bytes.
fn webhook_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(corpus_files("webhook")),
        prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// Proptest's defaults (`PROPTEST_CASES` …), with failures kept beside
/// this file so they are replayed first on every later run.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

#[test]
fn the_corpus_replays() {
    for line in corpus_lines("server.jsonl") {
        let _ = ServerEvent::parse(&line);
        server_round_trips(&line).expect("server frame round-trips");
    }
    for line in corpus_lines("client.jsonl") {
        let _ = ClientMessage::parse(&line);
        client_round_trips(&line).expect("client frame round-trips");
    }
    for body in corpus_files("webhook") {
        let _ = webhook::parse_event(&body);
        let header = sign("wsec_corpus", NOW, &body);
        assert!(verify(&header, &body, "wsec_corpus").is_ok());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = ServerEvent::parse(&text);
        let _ = ClientMessage::parse(&text);
        let _ = webhook::parse_event(text.as_bytes());
    }

    #[test]
    fn arbitrary_json_never_panics(value in json()) {
        let text = value.to_string();
        server_round_trips(&text)?;
        client_round_trips(&text)?;
        let _ = ServerEvent::from_value(value.clone());
        let _ = ClientMessage::from_value(value);
    }

    #[test]
    fn mutated_server_frames_round_trip(text in mutated_frame(corpus_lines("server.jsonl"))) {
        server_round_trips(&text)?;
    }

    #[test]
    fn mutated_client_frames_round_trip(text in mutated_frame(corpus_lines("client.jsonl"))) {
        client_round_trips(&text)?;
    }

    #[test]
    fn built_client_messages_round_trip(
        text in ".{0,64}",
        id in any::<u64>(),
        audio in prop::collection::vec(any::<u8>(), 0..64),
        is_error in any::<bool>(),
    ) {
        for message in [
            ClientMessage::user_message(text.clone()),
            ClientMessage::contextual_update(text.clone()),
            ClientMessage::pong(id),
            ClientMessage::user_audio(&audio),
            ClientMessage::tool_result(text.clone(), text.clone(), is_error),
            ClientMessage::user_activity(),
        ] {
            prop_assert_eq!(ClientMessage::parse(&message.to_json()).ok(), Some(message));
        }
    }

    #[test]
    fn webhook_envelopes_never_panic(body in webhook_body(), edits in prop::collection::vec((any::<usize>(), json()), 0..3)) {
        let _ = webhook::parse_event(&body);
        if let Ok(mut value) = serde_json::from_slice::<Value>(&body) {
            for (at, with) in edits {
                replace_node(&mut value, at, with);
            }
            let _ = webhook::parse_event(value.to_string().as_bytes());
        }
    }

    #[test]
    fn arbitrary_signature_headers_never_panic(
        header in prop_oneof![".{0,120}", "t=-?[0-9]{1,22},v0=[0-9a-f]{0,70}(,v0=[0-9a-fA-F]{0,64})?"],
        body in webhook_body(),
        now in any::<i64>(),
        tolerance_secs in any::<u64>(),
    ) {
        let secret = WebhookSecret::new("wsec_any");
        let tolerance = Duration::from_secs(tolerance_secs);
        prop_assert!(webhook::verify_at(Some(&header), &body, &secret, now, tolerance).is_err()
            || header.contains("v0="));
        let _ = webhook::verify(Some(&header), &body, &secret);
        let _ = webhook::construct_event(Some(&header), &body, &secret);
    }

    #[test]
    fn a_signed_webhook_verifies(
        body in webhook_body(),
        secret in "[ -~]{0,40}",
        skew in -1_800_i64..=1_800,
    ) {
        let header = sign(&secret, NOW + skew, &body);
        prop_assert!(verify(&header, &body, &secret).is_ok());
    }

    #[test]
    fn any_changed_body_byte_is_refused(
        body in webhook_body().prop_filter("something to change", |b| !b.is_empty()),
        at in any::<usize>(),
        flip in 1u8..=255,
    ) {
        let header = sign("wsec_mutation", NOW, &body);
        let mut changed = body.clone();
        let at = at % changed.len();
        changed[at] ^= flip;
        prop_assert!(verify(&header, &changed, "wsec_mutation").is_err());
    }

    #[test]
    fn any_changed_signature_byte_is_refused(
        body in webhook_body(),
        at in any::<usize>(),
        flip in 1u8..=255,
    ) {
        let header = sign("wsec_mutation", NOW, &body);
        let mut changed = header.clone().into_bytes();
        let at = at % changed.len();
        changed[at] ^= flip;
        let Ok(changed) = String::from_utf8(changed) else {
            // A header that is not text never reaches the verifier.
            return Ok(());
        };
        // Hex digits read the same in either case: that byte still says the same signature.
        let hex_start = header.find("v0=").expect("v0") + 3;
        prop_assume!(!(at >= hex_start && changed.eq_ignore_ascii_case(&header)));
        prop_assert!(verify(&changed, &body, "wsec_mutation").is_err(), "accepted {changed}");
    }
}
