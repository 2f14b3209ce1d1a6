//! Bad input against the wire decoder: arbitrary bytes, and the messages
//! under `tests/corpus/wire/` with bytes changed, cut or spliced, never
//! panic the framing or the `OP_MSG`/`OP_QUERY` parsers; any document a
//! reply carries reads back the same.
//!
//! Bounded by proptest's `PROPTEST_CASES` (256 by default); a longer run:
//! `PROPTEST_CASES=200000 cargo test --release -p mongo-memory --lib wire::bad_input`.

use std::path::Path;

use bson::{Bson, Document};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use super::{OP_MSG, OP_QUERY, OpMsg, OpQuery, WireError, encode_op_msg_reply, read_frame};

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/wire");
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

/// What the server does with the bytes of one connection, up to the
/// command: frame after frame, each parsed by its op code.
fn decode_all(mut bytes: &[u8]) -> Vec<Result<Document, WireError>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut out = Vec::new();
        loop {
            let frame = match read_frame(&mut bytes).await {
                Ok(Some(frame)) => frame,
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            };
            let parsed = match frame.op_code {
                OP_MSG => OpMsg::parse(&frame.body, &frame.header).map(|m| m.command),
                OP_QUERY => OpQuery::parse(&frame.body).map(|q| q.command),
                other => Err(WireError::UnknownOpCode(other)),
            };
            let failed = parsed.is_err();
            out.push(parsed);
            if failed {
                return out;
            }
        }
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn bson_value() -> impl Strategy<Value = Bson> {
    let leaf = prop_oneof![
        Just(Bson::Null),
        any::<bool>().prop_map(Bson::Boolean),
        any::<i32>().prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        any::<f64>()
            .prop_filter("NaN never equals itself", |f| !f.is_nan())
            .prop_map(Bson::Double),
        ".{0,16}".prop_map(Bson::String),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Bson::Array),
            document_of(inner).prop_map(Bson::Document),
        ]
    })
}

fn document_of(values: impl Strategy<Value = Bson>) -> impl Strategy<Value = Document> {
    // BSON keys are C strings: no NUL.
    prop::collection::vec(("[a-zA-Z$_.][a-zA-Z0-9$_.]{0,8}", values), 0..6)
        .prop_map(|fields| fields.into_iter().collect())
}

/// A corpus message changed: bytes overwritten, the tail cut, or two joined.
#[derive(Clone, Debug)]
enum Change {
    Overwrite(usize, u8),
    Cut(usize),
    Append(Vec<u8>),
}

fn changed_message() -> impl Strategy<Value = Vec<u8>> {
    let change = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Change::Overwrite(at, byte)),
        any::<usize>().prop_map(Change::Cut),
        prop::sample::select(corpus()).prop_map(Change::Append),
    ];
    (
        prop::sample::select(corpus()),
        prop::collection::vec(change, 1..5),
    )
        .prop_map(|(mut bytes, changes)| {
            for change in changes {
                match change {
                    Change::Overwrite(at, byte) if !bytes.is_empty() => {
                        let at = at % bytes.len();
                        bytes[at] = byte;
                    }
                    Change::Cut(at) => bytes.truncate(at % (bytes.len() + 1)),
                    Change::Append(more) => bytes.extend(more),
                    Change::Overwrite(..) => {}
                }
            }
            bytes
        })
}

#[test]
fn the_corpus_replays() {
    let decoded: Vec<_> = corpus().iter().map(|bytes| decode_all(bytes)).collect();
    let good = decoded
        .iter()
        .filter(|messages| messages.iter().all(Result::is_ok) && !messages.is_empty())
        .count();
    let bad = decoded
        .iter()
        .filter(|messages| messages.iter().any(Result::is_err))
        .count();
    assert!(
        good >= 7 && bad >= 9,
        "{good} good and {bad} bad corpus messages"
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&bytes);
    }

    #[test]
    fn arbitrary_bodies_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..256),
        header in any::<[u8; 16]>(),
    ) {
        let _ = OpMsg::parse(&body, &header);
        let _ = OpQuery::parse(&body);
    }

    #[test]
    fn changed_corpus_messages_never_panic(bytes in changed_message()) {
        decode_all(&bytes);
    }

    #[test]
    fn a_reply_reads_back_as_sent(
        document in document_of(bson_value()),
        request_id in any::<i32>(),
        response_to in any::<i32>(),
    ) {
        let bytes = encode_op_msg_reply(request_id, response_to, &document);
        let decoded = decode_all(&bytes);
        prop_assert_eq!(decoded.len(), 1);
        prop_assert_eq!(decoded[0].as_ref().ok(), Some(&document));
    }
}
