//! `parlor rebuild` as a user meets it: a full rebuild swapped in, a dry
//! run, an "as of" view, one projection, one conversation, and wrong flags
//! refused with a message. And a rebuild of a log `parlor load` made
//! leaves every read model exactly as the live projector built it.

use std::collections::BTreeMap;
use std::time::Duration;

use events::conversation::{ConversationMode, Requested};
use events::{ConversationEvent, ConversationId, CorrelationId, Envelope, EnvelopeMeta, UserId};
use eventstore::{EventStore, ExpectedVersion, StreamName};
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::{Bson, Document, doc};
use parlor::load::{LoadConfig, OwnStack};
use projector::checkpoint::Checkpoints;
use projector::names;
use tokio::time::Instant;

async fn parlor(nats: &str, mongo: &testkit::TestMongo, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("rebuild")
        .args(args)
        .env("NATS_URL", nats)
        .env("MONGODB_URI", mongo.uri())
        .env("MONGODB_DATABASE", mongo.database())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("parlor rebuild")
}

#[tokio::test]
async fn rebuild_dry_run_and_an_as_of_view() {
    let nats = testkit::NatsServer::start().expect("nats-server");
    let store = EventStore::connect(&nats.url()).await.expect("connect");
    store.ensure_streams().await.expect("streams");
    let id = ConversationId::new();
    let meta = EnvelopeMeta::new(id.to_string(), CorrelationId::new()).for_user(UserId::new());
    let requested = ConversationEvent::Requested(Requested {
        mode: ConversationMode::Live,
        owner: None,
    });
    store
        .append(
            id,
            ExpectedVersion::Exact(0),
            &[Envelope::new(meta, requested)],
        )
        .await
        .expect("append");
    let mongo = testkit::TestMongo::start("cli_rebuild")
        .await
        .expect("mongodb");
    let db = mongodb::Client::with_uri_str(mongo.uri())
        .await
        .expect("client")
        .database(mongo.database());
    let url = nats.url();

    let dry = parlor(&url, &mongo, &["--dry-run"]).await;
    assert!(dry.status.success(), "{dry:?}");
    let report = String::from_utf8_lossy(&dry.stdout);
    assert!(report.contains("nothing was changed"), "{report}");
    assert!(
        report.contains("conversations") && report.contains("1 added"),
        "{report}"
    );
    let conversations = db.collection::<Document>("conversations");
    assert_eq!(
        conversations.count_documents(doc! {}).await.expect("count"),
        0
    );

    let full = parlor(&url, &mongo, &[]).await;
    assert!(full.status.success(), "{full:?}");
    assert!(
        String::from_utf8_lossy(&full.stdout).contains("from 1 events"),
        "{full:?}"
    );
    assert_eq!(
        conversations.count_documents(doc! {}).await.expect("count"),
        1
    );

    let view = parlor(&url, &mongo, &["--into", "audit", "--to", "1"]).await;
    assert!(view.status.success(), "{view:?}");
    let audit = db.collection::<Document>("conversations_audit");
    assert_eq!(audit.count_documents(doc! {}).await.expect("count"), 1);
    let before = parlor(
        &url,
        &mongo,
        &["--into", "empty", "--to", "2000-01-01T00:00:00Z"],
    )
    .await;
    assert!(before.status.success(), "{before:?}");
    let empty = db.collection::<Document>("conversations_empty");
    assert_eq!(empty.count_documents(doc! {}).await.expect("count"), 0);

    let usage = parlor(&url, &mongo, &["--projection", "usage"]).await;
    assert!(usage.status.success(), "{usage:?}");
    assert!(
        String::from_utf8_lossy(&usage.stdout).contains("user_usage_daily, user_usage_monthly"),
        "{usage:?}"
    );
    let one = parlor(&url, &mongo, &["--conversation", &id.to_string()]).await;
    assert!(one.status.success(), "{one:?}");
    assert!(
        String::from_utf8_lossy(&one.stdout).contains("from 1 events"),
        "{one:?}"
    );
    let unknown = parlor(&url, &mongo, &["--projection", "agents"]).await;
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("invalid value 'agents'") && stderr.contains("agent-stats"),
        "{stderr}"
    );
    for (args, says) in [
        (
            &["--conversation", &ConversationId::new().to_string()][..],
            "the log holds no event of it",
        ),
        (
            &["--conversation", "conv_nobody"][..],
            "no conversation has this ElevenLabs id",
        ),
        (
            &["--conversation", "42"][..],
            "neither a 24-hex conversation id nor a conv_ id",
        ),
        (&["--into", "a-b"][..], "letters, digits and `_` only"),
        (
            &["--into", "x", "--to", "yesterday"][..],
            "neither a stream sequence nor an RFC 3339 time",
        ),
    ] {
        let refused = parlor(&url, &mongo, args).await;
        assert!(!refused.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    if mongo.is_real() {
        db.drop().await.expect("drop test database");
    }
}

/// How long the live read models may take to show a load's last event.
const SETTLE_WITHIN: Duration = Duration::from_secs(300);
const PACE: Duration = Duration::from_millis(100);
/// Differences listed when documents differ.
const SHOWN: usize = 20;

/// Rounds of `calls` calls of `turns` turns through `parlor load` (one
/// flood, one vanishing and one dropped call among them) until the log
/// holds at least `events` events; once the live projector has applied the
/// last of them, a full rebuild swaps in documents identical to the live
/// ones, field by field and BSON type by type, in every collection.
async fn a_rebuild_of_a_load_matches_the_live_projection(events: u64, calls: usize, turns: usize) {
    let stack = OwnStack::start(calls).await.expect("stack");
    let store = EventStore::new(stack.target.nats.clone());
    let config = LoadConfig {
        calls,
        turns,
        floods: 1,
        oversized: 0,
        vanishing: 1,
        drops: 1,
        flood_messages: 200,
    };
    while projector::rebuild::log_size(&store)
        .await
        .expect("log size")
        < events
    {
        let report = parlor::load::run(&stack.target, &config)
            .await
            .expect("the load ran");
        assert!(report.errors.is_empty(), "{report}");
    }
    let conversations = &stack.target.conversations;
    let db = conversations
        .client()
        .database(&conversations.namespace().db);
    let logged = settled(&store, &db).await;
    let live = snapshot(&db).await;
    for base in [
        names::CONVERSATIONS,
        names::USAGE_DAILY,
        names::USAGE_MONTHLY,
        names::AGENT_STATS,
        names::LEDGER_ACCOUNTS,
        names::LEDGER_ENTRIES,
    ] {
        assert!(!live[base].is_empty(), "the live projector wrote no {base}");
    }

    let rebuilt = projector::rebuild(&store, &db).await.expect("rebuild");
    assert_eq!(rebuilt.events, logged, "the rebuild read the whole log");
    let swapped_in = snapshot(&db).await;
    let mut differences = Vec::new();
    for (base, live_docs) in &live {
        differences.extend(collection_differences(base, live_docs, &swapped_in[base]));
    }
    assert!(
        differences.is_empty(),
        "{} difference(s) between the live and rebuilt read models ({logged} events), first {SHOWN}:\n{}",
        differences.len(),
        differences
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    stack.stop().await.expect("stack stopped");
}

/// A log of a few thousand events: the CI size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_of_a_small_load_matches_the_live_projection() {
    a_rebuild_of_a_load_matches_the_live_projection(3_000, 40, 8).await;
}

/// A log of 100,000 events, with calls long enough (over 500 messages) to
/// spill into `conversation_messages`. Run it with
/// `cargo test --release -p parlor --test rebuild -- --ignored a_rebuild_of_100k_events_matches_the_live_projection`.
#[ignore = "100,000 events: minutes; run by hand"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_of_100k_events_matches_the_live_projection() {
    a_rebuild_of_a_load_matches_the_live_projection(100_000, 200, 260).await;
}

/// Once the live projector has written up to each stream's last sequence,
/// every call is over, no credit is held and nothing new arrived since the
/// previous look: the events in the log.
async fn settled(store: &EventStore, db: &Database) -> u64 {
    let checkpoints = Checkpoints::new(db, names::CONVERSATIONS);
    let deadline = Instant::now() + SETTLE_WITHIN;
    let mut pace = tokio::time::interval(PACE);
    let mut previous = None;
    loop {
        pace.tick().await;
        let mut last = Vec::new();
        let mut applied = true;
        for stream in StreamName::ALL {
            let sequence = last_sequence(store, stream).await;
            applied &= checkpoints.load(stream).await.expect("checkpoint") == sequence;
            last.push(sequence);
        }
        let calls_open = db
            .collection::<Document>(names::CONVERSATIONS)
            .count_documents(doc! { "status": { "$nin": ["done", "failed"] } })
            .await
            .expect("count calls");
        let holding = db
            .collection::<Document>(names::LEDGER_ACCOUNTS)
            .count_documents(doc! { "held": { "$ne": 0 } })
            .await
            .expect("count holds");
        let quiet = applied && calls_open == 0 && holding == 0;
        if quiet && previous.as_ref() == Some(&last) {
            return projector::rebuild::log_size(store).await.expect("log size");
        }
        previous = quiet.then_some(last);
        assert!(
            Instant::now() < deadline,
            "the live projector never caught up: {calls_open} calls open, {holding} accounts holding, applied {applied}"
        );
    }
}

async fn last_sequence(store: &EventStore, stream: StreamName) -> u64 {
    async_nats::jetstream::new(store.client().clone())
        .get_stream(stream.as_str())
        .await
        .expect("stream")
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence
}

/// Every collection a projection writes, each sorted by `_id`.
async fn snapshot(db: &Database) -> BTreeMap<&'static str, Vec<Document>> {
    let mut all = BTreeMap::new();
    for base in names::ALL {
        let documents: Vec<Document> = db
            .collection::<Document>(base)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("read");
        all.insert(base, documents);
    }
    all
}

fn collection_differences(base: &str, live: &[Document], rebuilt: &[Document]) -> Vec<String> {
    let by_id = |documents: &[Document]| {
        documents
            .iter()
            .map(|d| {
                (
                    d.get("_id").map(ToString::to_string).unwrap_or_default(),
                    d.clone(),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let (live, rebuilt) = (by_id(live), by_id(rebuilt));
    let mut differences = Vec::new();
    for (id, document) in &live {
        match rebuilt.get(id) {
            None => differences.push(format!("{base} {id}: only live")),
            Some(other) => {
                value_differences(
                    &format!("{base} {id}"),
                    &Bson::Document(document.clone()),
                    &Bson::Document(other.clone()),
                    &mut differences,
                );
            }
        }
    }
    for id in rebuilt.keys().filter(|id| !live.contains_key(*id)) {
        differences.push(format!("{base} {id}: only rebuilt"));
    }
    differences
}

/// Where `live` and `rebuilt` differ, by path: a value, its BSON type, a
/// field present on one side only, or an array's length.
fn value_differences(path: &str, live: &Bson, rebuilt: &Bson, out: &mut Vec<String>) {
    match (live, rebuilt) {
        (Bson::Document(live), Bson::Document(rebuilt)) => {
            for (key, value) in live {
                let at = format!("{path}.{key}");
                match rebuilt.get(key) {
                    Some(other) => value_differences(&at, value, other, out),
                    None => out.push(format!("{at}: only live ({value:?})")),
                }
            }
            for key in rebuilt
                .keys()
                .filter(|key| !live.contains_key(key.as_str()))
            {
                out.push(format!(
                    "{path}.{key}: only rebuilt ({:?})",
                    rebuilt.get(key)
                ));
            }
        }
        (Bson::Array(live), Bson::Array(rebuilt)) => {
            if live.len() != rebuilt.len() {
                out.push(format!(
                    "{path}: {} elements live, {} rebuilt",
                    live.len(),
                    rebuilt.len()
                ));
            }
            for (index, (value, other)) in live.iter().zip(rebuilt).enumerate() {
                value_differences(&format!("{path}[{index}]"), value, other, out);
            }
        }
        (live, rebuilt) if live.element_type() != rebuilt.element_type() => out.push(format!(
            "{path}: {:?} {live} live, {:?} {rebuilt} rebuilt",
            live.element_type(),
            rebuilt.element_type()
        )),
        (live, rebuilt) if live != rebuilt => {
            out.push(format!("{path}: {live} live, {rebuilt} rebuilt"));
        }
        _ => {}
    }
}
