//! `parlor events` as a user meets it: parked events listed from MongoDB,
//! a wrong aggregate refused with a message and a non-zero exit.

use std::process::Command;

use eventstore::{LogMessage, StreamName};
use projector::parked::{Parked, ParkedEvent};

#[tokio::test]
async fn parked_events_are_listed_as_json_lines_and_as_a_table() {
    let mongo = testkit::TestMongo::start("cli_events")
        .await
        .expect("mongodb");
    let db = mongodb::Client::with_uri_str(mongo.uri())
        .await
        .expect("client")
        .database(mongo.database());
    let message = LogMessage {
        sequence: 42,
        subject: "conv.0123456789abcdef01234567".into(),
        payload: "{not json".into(),
        delivered: 1,
    };
    Parked::new(&db)
        .park(&[ParkedEvent::new(
            StreamName::Conversations,
            &message,
            &"undecodable: malformed envelope",
        )])
        .await
        .expect("park");
    // The server runs on this test's runtime: the command is awaited, not blocked on.
    let parlor = async |format: &str| {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(["events", "parked", "--format", format])
            .env("MONGODB_URI", mongo.uri())
            .env("MONGODB_DATABASE", mongo.database())
            .env("RUST_LOG", "warn")
            .output()
            .await
            .expect("parlor events parked");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let json = parlor("json").await;
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{json}");
    assert_eq!(lines[0]["sequence"], 42);
    assert_eq!(lines[0]["stream"], "CONVERSATIONS");
    assert_eq!(lines[0]["payload"], "{not json");
    let table = parlor("table").await;
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].starts_with("stream"), "{table}");
    assert!(
        rows[1].contains("42") && rows[1].contains("undecodable"),
        "{table}"
    );
    if mongo.is_real() {
        db.drop().await.expect("drop test database");
    }
}

#[test]
fn a_wrong_aggregate_is_refused_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args([
            "events",
            "show",
            "not-an-id",
            "--nats-url",
            "nats://127.0.0.1:1",
        ])
        .output()
        .expect("parlor events show");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`not-an-id` is neither a conversation id"),
        "{stderr}"
    );
}

async fn parlor_events(nats: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("events")
        .args(args)
        .args(["--nats-url", nats])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("parlor events");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}

#[tokio::test]
async fn tail_show_and_stats_filter_by_type_user_and_time() {
    use events::conversation::{ConversationMode, Requested, UserMessage};
    use events::{
        ConversationEvent, ConversationId, CorrelationId, Envelope, EnvelopeMeta, UserId,
    };
    use eventstore::{EventStore, ExpectedVersion};

    let nats = testkit::NatsServer::start().expect("nats-server");
    let store = EventStore::connect(&nats.url()).await.expect("connect");
    store.ensure_streams().await.expect("streams");
    let users = [UserId::new(), UserId::new()];
    let mut conversations = Vec::new();
    for user in users {
        let id = ConversationId::new();
        let event = |event| {
            let meta = EnvelopeMeta::new(id.to_string(), CorrelationId::new()).for_user(user);
            Envelope::new(meta, event)
        };
        let requested = ConversationEvent::Requested(Requested {
            mode: ConversationMode::Live,
            owner: None,
        });
        let said = ConversationEvent::UserMessage(UserMessage {
            text: "hello".into(),
            time_in_call_ms: 10,
        });
        store
            .append(
                id,
                ExpectedVersion::Exact(0),
                &[event(requested), event(said)],
            )
            .await
            .expect("append");
        conversations.push(id);
    }
    let url = nats.url();
    let mine = users[0].to_string();
    let tail = parlor_events(
        &url,
        &[
            "tail",
            "--user",
            &mine,
            "--type",
            "conversation.user_message",
        ],
    )
    .await;
    let lines: Vec<serde_json::Value> = tail
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 1, "{tail}");
    assert_eq!(lines[0]["event"]["type"], "conversation.user_message");
    assert_eq!(lines[0]["event"]["user_id"], mine.as_str());

    let family = parlor_events(&url, &["tail", "--type", "conversation.*"]).await;
    assert_eq!(family.lines().count(), 4, "{family}");
    let later = parlor_events(&url, &["tail", "--since", "2999-01-01T00:00:00Z"]).await;
    assert_eq!(later.lines().count(), 0, "{later}");

    let shown = parlor_events(
        &url,
        &["show", &conversations[1].to_string(), "--format", "table"],
    )
    .await;
    let rows: Vec<&str> = shown.lines().collect();
    assert_eq!(rows.len(), 3, "{shown}");
    assert!(rows[1].contains("conversation.requested"), "{shown}");

    let stats = parlor_events(&url, &["stats"]).await;
    let counts: Vec<serde_json::Value> = stats
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(counts.len(), 2, "{stats}");
    assert!(
        counts
            .iter()
            .all(|c| c["events"] == 2 && c["stream"] == "CONVERSATIONS"),
        "{stats}"
    );
}
