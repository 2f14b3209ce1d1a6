//! Exports stream from a MongoDB cursor with bounded memory: the real
//! `gateway` binary runs as a child process against nats-server and
//! mongo-memory (testkit), a client reads an export incrementally, checks
//! its rows and columns, and the child's peak memory (`VmHWM`) is compared
//! before and after. An `Accept` neither format satisfies is 406.
//!
//! The conversations are inserted as Prisma-shaped documents straight into
//! the `conversations` read model through the driver: the projector is not
//! what is under test here, and projecting 50,000 calls would take minutes.
//!
//! The 50,000-conversation run takes about 20 s of CPU in a debug build
//! (a minute on a busy 2-core machine); `-- --nocapture` prints its figures.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use events::UserId;
use gateway::{JwtSecret, Role, issue_token};
use mongodb::bson::{self, Document, doc, oid::ObjectId};
use testkit::{NatsServer, TestMongo};

const COLUMNS: [&str; 15] = [
    "conversationId",
    "userId",
    "agentId",
    "status",
    "startedAt",
    "endedAt",
    "duration",
    "cost",
    "messageCount",
    "totalLatency",
    "averageLatency",
    "costPerMinute",
    "elevenlabsConversationId",
    "terminationReason",
    "transcript",
];
const MIB: u64 = 1024 * 1024;

/// The gateway binary, killed when dropped.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    secret: JwtSecret,
}

impl Gateway {
    fn start(nats: &NatsServer, mongo: &TestMongo) -> Self {
        let secret_text: String = (0..48).map(|i| char::from(b'a' + (i % 26))).collect();
        let port = testkit::port::free_port().expect("port");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
            .env("PARLOR_HTTP_ADDR", addr.to_string())
            .env("NATS_URL", nats.url())
            .env("MONGODB_URI", mongo.uri())
            .env("MONGODB_DATABASE", mongo.database())
            .env("PARLOR_JWT_SECRET", &secret_text)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("gateway binary");
        let alive = || matches!(child.try_wait(), Ok(None));
        assert!(
            testkit::port::wait_until_accepting(addr, Duration::from_secs(60), alive),
            "the gateway never listened"
        );
        Self {
            child,
            addr,
            secret: JwtSecret::new(secret_text.as_bytes()).expect("secret"),
        }
    }

    fn token(&self, user: UserId, role: Role) -> String {
        issue_token(&self.secret, user, role, Duration::from_secs(3600))
    }

    /// `VmHWM` (peak resident set) in bytes, from /proc.
    fn peak_memory(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .expect("VmHWM");
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("kB");
        kib * 1024
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A transcript of about 1.6 KB with what CSV must quote: commas, quotes, newlines.
fn transcript(n: usize) -> String {
    (0..20)
        .map(|turn| {
            if turn % 2 == 0 {
                format!("user: question {n}.{turn}, said \"plainly\" and at some length to fill the line")
            } else {
                format!("agent: answer {n}.{turn}, which goes on a little longer than the question did")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `conversations` document in the Prisma shape (DESIGN §3).
fn conversation(user: UserId, n: usize, status: &str) -> Document {
    let started =
        bson::DateTime::from_millis(1_767_225_600_000 + i64::try_from(n).expect("n") * 1000);
    doc! {
        "_id": ObjectId::new(),
        "userId": ObjectId::from_bytes(user.bytes()),
        "agentId": "agent_export",
        "transcript": transcript(n),
        "duration": 60_i32,
        "cost": 400.0,
        "startedAt": started,
        "endedAt": started,
        "status": status,
        "messages": [],
        "metrics": {
            "totalLatency": 1200_i32, "averageLatency": 200.0, "messageCount": 12_i32,
            "creditsUsed": 400.0, "costPerMinute": 400.0,
        },
        "metadata": { "elevenlabs_conversation_id": format!("conv_{n}") },
    }
}

async fn seed(mongo: &TestMongo, user: UserId, count: usize, status: &str) {
    let collection = mongodb::Client::with_uri_str(mongo.uri())
        .await
        .expect("mongodb")
        .database(mongo.database())
        .collection::<Document>("conversations");
    let mut n = 0;
    while n < count {
        let batch: Vec<Document> = (n..count.min(n + 1000))
            .map(|i| conversation(user, i, status))
            .collect();
        n += batch.len();
        collection.insert_many(batch).await.expect("insert");
    }
}

/// What a client read of an export.
struct Export {
    header: Vec<String>,
    rows: usize,
    bytes: u64,
    users: std::collections::BTreeSet<String>,
    transcripts: usize,
}

/// A `Read` over the chunks a response yields, for the CSV reader.
struct Chunks {
    incoming: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.incoming.recv() {
                Ok(chunk) => self.current = chunk,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Reads a CSV export chunk by chunk (never whole), parsing as it goes.
async fn read_csv(gateway: &Gateway, token: &str, query: &str) -> Export {
    let mut response = reqwest::Client::new()
        .get(format!(
            "http://{}/api/exports/conversations?{query}",
            gateway.addr
        ))
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let (send, incoming) = mpsc::sync_channel::<Bytes>(4);
    let parser = tokio::task::spawn_blocking(move || {
        let mut csv = csv::Reader::from_reader(Chunks {
            incoming,
            current: Bytes::new(),
        });
        let header: Vec<String> = csv
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        let (mut rows, mut transcripts) = (0, 0);
        let mut users = std::collections::BTreeSet::new();
        for record in csv.records() {
            let record = record.expect("a CSV record");
            assert_eq!(record.len(), COLUMNS.len(), "{record:?}");
            users.insert(record[1].to_owned());
            transcripts += usize::from(record[14].starts_with("user: question"));
            rows += 1;
        }
        (header, rows, users, transcripts)
    });
    let mut bytes = 0_u64;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        bytes += chunk.len() as u64;
        if send.send(chunk).is_err() {
            break;
        }
    }
    drop(send);
    let (header, rows, users, transcripts) = parser.await.expect("parser");
    Export {
        header,
        rows,
        bytes,
        users,
        transcripts,
    }
}

#[tokio::test]
async fn an_export_of_fifty_thousand_conversations_streams_with_bounded_memory() {
    const COUNT: usize = 50_000;
    let nats = NatsServer::start().expect("nats-server");
    let mongo = TestMongo::start("gateway_export").await.expect("mongodb");
    let user = UserId::new();
    seed(&mongo, user, COUNT, "done").await;
    let gateway = Gateway::start(&nats, &mongo);
    let token = gateway.token(user, Role::User);
    // Warm up the driver's pool and the allocator on a small export first.
    let warm = read_csv(&gateway, &token, "to=2026-01-01T00:01:40Z").await;
    assert_eq!(warm.rows, 100);
    let before = gateway.peak_memory();

    let read = read_csv(&gateway, &token, "").await;
    let after = gateway.peak_memory();
    assert_eq!(read.header, COLUMNS);
    assert_eq!(read.rows, COUNT);
    assert_eq!(read.transcripts, COUNT);
    assert!(
        read.bytes > 64 * MIB,
        "the export ({} bytes) must outsize the bound to show anything",
        read.bytes
    );
    let growth = after.saturating_sub(before);
    report(before, after, read.bytes);
    assert!(
        growth < 64 * MIB,
        "the gateway's peak memory grew by {growth} bytes ({before} → {after}) over a {}-byte export",
        read.bytes
    );
}

#[tokio::test]
async fn an_export_streams_rows_and_columns_scoped_to_the_caller() {
    const COUNT: usize = 3_000;
    let nats = NatsServer::start().expect("nats-server");
    let mongo = TestMongo::start("gateway_export").await.expect("mongodb");
    let (a, b) = (UserId::new(), UserId::new());
    seed(&mongo, a, COUNT, "done").await;
    seed(&mongo, b, 10, "failed").await;
    let gateway = Gateway::start(&nats, &mongo);

    let before = gateway.peak_memory();
    let mine = read_csv(&gateway, &gateway.token(a, Role::User), "").await;
    let after = gateway.peak_memory();
    assert_eq!(mine.header, COLUMNS);
    assert_eq!(mine.rows, COUNT);
    assert_eq!(mine.transcripts, COUNT);
    assert_eq!(mine.users.into_iter().collect::<Vec<_>>(), [a.to_string()]);
    assert!(
        after.saturating_sub(before) < 64 * MIB,
        "{before} → {after} over {} bytes",
        mine.bytes
    );

    let finance = gateway.token(UserId::new(), Role::Finance);
    let everyone = read_csv(&gateway, &finance, "").await;
    assert_eq!(everyone.rows, COUNT + 10);
    assert_eq!(
        everyone.transcripts, 0,
        "finance reads no one's transcripts"
    );
    let failed = read_csv(&gateway, &finance, &format!("status=failed&userId={b}")).await;
    assert_eq!(failed.rows, 10);
    let admin = gateway.token(UserId::new(), Role::Admin);
    let one_day = read_csv(&gateway, &admin, "from=2026-01-01&to=2026-01-01").await;
    assert_eq!(
        one_day.rows,
        COUNT + 10,
        "every seeded call started on 2026-01-01"
    );
    assert_eq!(one_day.transcripts, COUNT + 10);

    let ndjson = reqwest::Client::new()
        .get(format!(
            "http://{}/api/exports/conversations?format=ndjson&userId={b}",
            gateway.addr
        ))
        .bearer_auth(gateway.token(b, Role::User))
        .send()
        .await
        .expect("request");
    assert_eq!(ndjson.headers()["content-type"], "application/x-ndjson");
    let text = ndjson.text().await.expect("body");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 10);
    for line in &lines {
        let keys: std::collections::BTreeSet<&str> = line
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, COLUMNS.into_iter().collect());
        assert_eq!(line["status"], "failed");
    }

    let someone_else = reqwest::Client::new()
        .get(format!(
            "http://{}/api/exports/conversations?userId={a}",
            gateway.addr
        ))
        .bearer_auth(gateway.token(b, Role::User))
        .send()
        .await
        .expect("request");
    assert_eq!(someone_else.status(), 404);
}

/// Prints the figures the README quotes (a test's output is shown with --nocapture).
fn report(before: u64, after: u64, bytes: u64) {
    let line = format!(
        "export of {:.1} MiB: gateway peak RSS {:.1} MiB → {:.1} MiB",
        bytes as f64 / MIB as f64,
        before as f64 / MIB as f64,
        after as f64 / MIB as f64
    );
    std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes())
        .expect("stderr");
}

#[tokio::test]
async fn an_accept_neither_format_satisfies_is_406_unless_format_chooses() {
    let nats = NatsServer::start().expect("nats-server");
    let mongo = TestMongo::start("gateway_export_accept")
        .await
        .expect("mongodb");
    let user = UserId::new();
    seed(&mongo, user, 2, "done").await;
    let gateway = Gateway::start(&nats, &mongo);
    let token = gateway.token(user, Role::User);
    let http = reqwest::Client::new();
    for route in ["conversations", "ledger"] {
        let ask = |query: &str, accept: &str| {
            http.get(format!(
                "http://{}/api/exports/{route}{query}",
                gateway.addr
            ))
            .bearer_auth(&token)
            .header("accept", accept.to_owned())
            .send()
        };
        let refused = ask("", "application/json").await.expect("request");
        assert_eq!(refused.status(), 406, "{route}");
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let problem: serde_json::Value = refused.json().await.expect("json");
        assert_eq!(problem["status"], 406);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("text/csv")),
            "{problem}"
        );
        for (query, accept, produced) in [
            ("?format=ndjson", "application/json", "application/x-ndjson"),
            ("", "application/json, text/csv", "text/csv; charset=utf-8"),
            ("", "*/*", "text/csv; charset=utf-8"),
            ("", "application/x-ndjson", "application/x-ndjson"),
        ] {
            let answered = ask(query, accept).await.expect("request");
            assert_eq!(answered.status(), 200, "{route}{query} {accept}");
            assert_eq!(answered.headers()["content-type"], produced, "{accept}");
        }
    }
}
