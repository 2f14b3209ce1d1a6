//! The `elevenlabs-sim` binary: an agents file, one ready line, a working
//! REST surface behind the given key.

use std::io::Write;

use tokio::io::AsyncBufReadExt;

#[tokio::test]
async fn the_binary_prints_a_ready_line_and_serves() {
    let mut agents = tempfile::NamedTempFile::new().expect("temp file");
    write!(
        agents,
        r#"[{{"agent_id":"agent_file","name":"From file","first_message":"Hello from a file"}}]"#
    )
    .expect("write");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_elevenlabs-sim"))
        .args(["--port", "0", "--fast", "--api-key", "sk_bin", "--agents"])
        .arg(agents.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("ready in time")
        .expect("read")
        .expect("a line");
    assert!(line.contains("default_agent_id=agent_file"), "{line}");
    assert!(
        !line.contains("sk_bin"),
        "the given key is not echoed: {line}"
    );
    let url = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("url="))
        .expect("url=");
    let response = reqwest::Client::new()
        .get(format!("{url}/v1/convai/agents/agent_file"))
        .header("xi-api-key", "sk_bin")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let agent: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        agent["conversation_config"]["agent"]["first_message"],
        "Hello from a file"
    );
    child.kill().await.expect("kill");
}
