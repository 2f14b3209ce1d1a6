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
