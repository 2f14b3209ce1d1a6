//! The ledger's report commands as finance runs them against a live log:
//! `parlor reconcile` (JSON and CSV), `parlor ledger explain`, `parlor
//! reprice`, and their errors.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use events::command::{Balance, GrantCredits, HoldCredits, HoldPlaced, Reply, subject};
use events::conversation::{ConversationEvent, CostReported, EndReason, Ended};
use events::{ConversationId, CorrelationId, Credits, Envelope, EnvelopeMeta, EventId, UserId};
use eventstore::{EventStore, ExpectedVersion};
use testkit::NatsServer;

const DEADLINE: Duration = Duration::from_secs(30);

async fn ask<T: serde::Serialize, R: serde::de::DeserializeOwned>(
    client: &async_nats::Client,
    subject: &str,
    body: &T,
) -> R {
    let reply = client
        .request(
            subject.to_owned(),
            serde_json::to_vec(body).expect("json").into(),
        )
        .await
        .expect("a reply");
    serde_json::from_slice::<Reply<R>>(&reply.payload)
        .expect("a reply body")
        .into_result()
        .expect("accepted")
}

fn parlor(nats: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(args)
        .env("NATS_URL", nats)
        .env_remove("PARLOR_RATE_CARD")
        .env("RUST_LOG", "warn")
        .output()
        .expect("parlor runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

#[tokio::test]
async fn reconcile_explain_and_reprice_read_a_charged_call_from_the_log() {
    let server = NatsServer::start().expect("nats-server");
    let url = server.url();
    let store = EventStore::connect(&url).await.expect("connect");
    store.ensure_streams().await.expect("streams");
    let config = ledger::Config::new(url.clone());
    let running = ledger::Ledger::start(&config, ledger::Pricing::default())
        .await
        .expect("ledger");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let copy = tokio::spawn(running.run(async {
        let _ = stopped.await;
    }));
    let client = store.client().clone();
    let (user, conversation) = (UserId::new(), ConversationId::new());
    let _: Balance = ask(
        &client,
        subject::LEDGER_GRANT,
        &GrantCredits {
            grant_id: EventId::new(),
            user_id: user,
            credits: Credits::new(10_000),
            reason: None,
        },
    )
    .await;
    let _: HoldPlaced = ask(
        &client,
        subject::LEDGER_HOLD,
        &HoldCredits {
            conversation_id: conversation,
            user_id: user,
            agent_id: "agent_finance".parse().expect("agent"),
            correlation_id: CorrelationId::new(),
        },
    )
    .await;
    let events = [
        ConversationEvent::Ended(Ended {
            reason: EndReason::AgentEnded,
            duration_ms: 60_000,
            close_code: None,
        }),
        ConversationEvent::CostReported(CostReported {
            elevenlabs_conversation_id: "conv_x".to_owned(),
            credits: Credits::new(450),
            call_duration_ms: 60_000,
            charging: None,
        }),
    ]
    .map(|event| {
        Envelope::new(
            EnvelopeMeta::new(conversation.to_string(), CorrelationId::new())
                .for_user(user)
                .with_agent("agent_finance".parse().expect("agent")),
            event,
        )
    });
    store
        .append(conversation, ExpectedVersion::Any, &events)
        .await
        .expect("append");
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    let report = loop {
        let output = parlor(&url, &["reconcile", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
        if report["totals"]["final_charge"] == 450 {
            break report;
        }
        assert!(Instant::now() < deadline, "never charged: {report}");
        pace.tick().await;
    };
    let line = &report["conversations"][0];
    assert_eq!(line["conversation_id"], conversation.to_string());
    assert_eq!(
        (line["estimate"].as_i64(), line["difference"].as_i64()),
        (Some(400), Some(50))
    );
    assert_eq!(report["trial_balance"]["total"], 0);
    assert_eq!(report["totals"]["amount"], "0.099");

    let csv = stdout(&parlor(&url, &["reconcile", "--format", "csv"]));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "header, the call, the totals: {csv}");
    assert!(rows[1].starts_with(&conversation.to_string()) && rows[1].contains(",450,"));
    assert!(rows[2].starts_with("total,") && rows[2].contains("trial_balance=0"));

    let table = stdout(&parlor(
        &url,
        &["ledger", "explain", &conversation.to_string()],
    ));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("seq"), "{table}");
    let events: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().nth(3).unwrap_or(""))
        .collect();
    assert_eq!(
        events,
        ["credits.held", "hold.captured", "charge.adjusted"],
        "a one-minute hold, all of it captured"
    );
    assert!(
        lines[2].contains("CONVERSATIONS #1 conversation.ended"),
        "the capture names its cause: {table}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let rates = dir.path().join("rates.json");
    std::fs::write(
        &rates,
        r#"{"rates": [{"from": "2000-01-01T00:00:00Z", "tier": "business"}]}"#,
    )
    .expect("card");
    let repriced = stdout(&parlor(
        &url,
        &["reprice", "--rates", rates.to_str().expect("path")],
    ));
    let total = repriced.lines().last().expect("a total line");
    assert_eq!(
        total.split_whitespace().collect::<Vec<_>>(),
        ["total", "1", "400", "800", "+400"]
    );

    for (args, says) in [
        (
            vec!["ledger", "explain", "not-an-id"],
            "not a conversation id",
        ),
        (
            vec![
                "reconcile",
                "--from",
                "2026-01-02T00:00:00Z",
                "--to",
                "2026-01-01T00:00:00Z",
            ],
            "is not before",
        ),
        (
            vec!["reprice", "--rates", "/nonexistent.json"],
            "cannot read the rate card",
        ),
    ] {
        let output = parlor(&url, &args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let _ = stop.send(());
    copy.await.expect("joined").expect("stopped");
}
