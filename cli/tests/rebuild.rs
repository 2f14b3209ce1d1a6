//! `parlor rebuild` as a user meets it: a full rebuild swapped in, a dry
//! run, an "as of" view, one projection, one conversation, and wrong flags
//! refused with a message.

use events::conversation::{ConversationMode, Requested};
use events::{ConversationEvent, ConversationId, CorrelationId, Envelope, EnvelopeMeta, UserId};
use eventstore::{EventStore, ExpectedVersion};
use mongodb::bson::{Document, doc};

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
