//! Bad input against the event decoder: arbitrary bytes, and envelopes from
//! `tests/corpus/` with their type, schema, metadata or payload fields
//! replaced, never panic; whatever decodes (upcast or not) encodes back to
//! bytes that decode to the same event; built events round-trip exactly.
//!
//! Bounded by proptest's `PROPTEST_CASES` (256 by default); a longer run:
//! `PROPTEST_CASES=200000 cargo test --release -p events --test bad_input`.

use std::path::Path;

use chrono::{DateTime, Utc};
use events::conversation::{AgentMessage, UserMessage};
use events::{
    ConversationEvent, ConversationId, CorrelationId, DomainEvent, Envelope, EnvelopeMeta,
    LedgerEvent, RawEnvelope,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::Value;

fn corpus(name: &str) -> Vec<String> {
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

fn every_envelope() -> Vec<String> {
    let mut lines = corpus("conversation.jsonl");
    lines.extend(corpus("ledger.jsonl"));
    lines
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

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Floats exact in short decimal: serde_json reads long ones only approximately.
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 64.0)),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("6b10615701414fca2953e7c3")),
        Just(Value::from("user-65a1b2c3d4e5f60718293a4b")),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A type name: one either family knows, or any text.
fn event_type() -> impl Strategy<Value = String> {
    let known: Vec<String> = ConversationEvent::types()
        .iter()
        .chain(LedgerEvent::types())
        .map(|(name, _)| (*name).to_owned())
        .collect();
    prop_oneof![prop::sample::select(known), ".{0,24}"]
}

/// One change to a corpus envelope.
#[derive(Clone, Debug)]
enum Edit {
    Type(String),
    Schema(u32),
    /// The `n`-th top-level field (modulo their count) replaced.
    Field(usize, Value),
    /// The `n`-th field of `data` replaced, or removed when `None`.
    Data(usize, Option<Value>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        event_type().prop_map(Edit::Type),
        prop_oneof![0u32..4, any::<u32>()].prop_map(Edit::Schema),
        (any::<usize>(), json()).prop_map(|(n, v)| Edit::Field(n, v)),
        (any::<usize>(), prop::option::of(json())).prop_map(|(n, v)| Edit::Data(n, v)),
    ]
}

fn apply(line: &str, edits: &[Edit]) -> Vec<u8> {
    let Ok(Value::Object(mut envelope)) = serde_json::from_str::<Value>(line) else {
        return line.as_bytes().to_vec();
    };
    for edit in edits {
        match edit {
            Edit::Type(name) => {
                envelope.insert("type".into(), Value::from(name.as_str()));
            }
            Edit::Schema(schema) => {
                envelope.insert("schema".into(), Value::from(*schema));
            }
            Edit::Field(n, value) => {
                let key = envelope.keys().nth(n % envelope.len()).cloned();
                if let Some(key) = key {
                    envelope.insert(key, value.clone());
                }
            }
            Edit::Data(n, value) => {
                if let Some(Value::Object(data)) = envelope.get_mut("data") {
                    let key = data.keys().nth(n % data.len().max(1)).cloned();
                    match (key, value) {
                        (Some(key), Some(value)) => {
                            data.insert(key, value.clone());
                        }
                        (Some(key), None) => {
                            data.remove(&key);
                        }
                        (None, _) => {}
                    }
                }
            }
        }
    }
    Value::Object(envelope).to_string().into_bytes()
}

/// Whatever decodes re-encodes (at the current schema) to the same event.
fn decodes_stably<E: DomainEvent + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    if let Ok(envelope) = Envelope::<E>::from_json(bytes) {
        let again = Envelope::<E>::from_json(&envelope.to_json());
        prop_assert_eq!(again.as_ref().ok(), Some(&envelope));
    }
    Ok(())
}

fn decodes_every_way(bytes: &[u8]) -> Result<(), TestCaseError> {
    let _ = RawEnvelope::from_json(bytes);
    decodes_stably::<ConversationEvent>(bytes)?;
    decodes_stably::<LedgerEvent>(bytes)
}

#[test]
fn the_corpus_replays() {
    for line in corpus("conversation.jsonl") {
        decodes_every_way(line.as_bytes()).expect("decodes stably");
    }
    for line in corpus("ledger.jsonl") {
        decodes_every_way(line.as_bytes()).expect("decodes stably");
        assert!(Envelope::<LedgerEvent>::from_json(line.as_bytes()).is_ok());
    }
    let good = corpus("conversation.jsonl")
        .iter()
        .filter(|line| Envelope::<ConversationEvent>::from_json(line.as_bytes()).is_ok())
        .count();
    assert!(good >= 12, "the corpus keeps its valid envelopes ({good})");
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decodes_every_way(&bytes)?;
    }

    #[test]
    fn edited_envelopes_decode_stably(
        line in prop::sample::select(every_envelope()),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        decodes_every_way(&apply(&line, &edits))?;
    }

    #[test]
    fn truncated_envelopes_are_errors(line in prop::sample::select(every_envelope()), cut in any::<usize>()) {
        let cut = cut % line.len();
        prop_assert!(RawEnvelope::from_json(&line.as_bytes()[..cut]).is_err());
    }

    #[test]
    fn built_events_round_trip(
        text in ".{0,80}",
        at in any::<u64>(),
        latency in prop::option::of(any::<u64>()),
        event_id in prop::option::of(any::<u64>()),
        millis in 0i64..253_402_300_799_000,
    ) {
        let mut meta = EnvelopeMeta::new(ConversationId::new().to_string(), CorrelationId::new());
        meta.occurred_at = DateTime::<Utc>::from_timestamp_millis(millis).expect("in range");
        for event in [
            ConversationEvent::UserMessage(UserMessage { text: text.clone(), time_in_call_ms: at }),
            ConversationEvent::AgentMessage(AgentMessage {
                text: text.clone(),
                time_in_call_ms: at,
                latency_ms: latency,
                event_id,
            }),
        ] {
            let envelope = Envelope::new(meta.clone(), event);
            prop_assert_eq!(Envelope::from_json(&envelope.to_json()).ok(), Some(envelope));
        }
    }
}
