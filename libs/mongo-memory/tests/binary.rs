//! The `mongo-memory` binary: prints one ready line with its URI, serves a
//! driver on it, and stops when killed.

use std::process::Stdio;

use mongodb::Client;
use mongodb::bson::doc;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn binary_prints_its_uri_and_serves_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mongo-memory"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mongo-memory");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("ready line in time")
    .expect("read stdout")
    .expect("a line");
    let uri = line.split_whitespace().last().expect("uri").to_owned();
    assert!(uri.starts_with("mongodb://127.0.0.1:"), "{line}");
    let client = Client::with_uri_str(&uri).await.expect("client");
    client
        .database("bin")
        .run_command(doc! { "ping": 1 })
        .await
        .expect("ping");
    child.kill().await.expect("stop");
}
