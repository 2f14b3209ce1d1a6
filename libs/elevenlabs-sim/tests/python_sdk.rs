//! The official Python SDK (`elevenlabs` 2.x, from PyPI into a virtualenv
//! under the target dir) holds a text conversation with no audio interface:
//! start a session, send a user message, get the agent's reply callback,
//! end the session. It drives `tests/python/text_chat.py`, the same script
//! a test through Parlor's gateway can run. Skipped, with one line saying
//! why, when python3 or PyPI is unavailable.

mod common;

use std::process::Output;

use common::*;
use elevenlabs_sim::{AgentConfig, ConversationStatus, SimConfig, Simulator};
use serde_json::Value;
use testkit::python::{PythonEnv, PythonError};

const SDK: &str = "elevenlabs>=2,<3";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/text_chat.py");
const MESSAGE: &str = "hello from python";

#[allow(clippy::print_stderr)]
fn skip(error: &PythonError) {
    eprintln!("skipping the Python SDK test: {error}");
}

/// Runs the script; its exit status and the JSON lines it printed.
async fn chat(env: &PythonEnv, args: Vec<String>) -> (Output, Vec<Value>) {
    let mut command = env.command();
    command.arg(SCRIPT).args(args).args(["--message", MESSAGE]);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("script task")
        .expect("run the script");
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    (output, lines)
}

fn the<'a>(lines: &'a [Value], event: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["event"] == event)
        .unwrap_or_else(|| panic!("no {event} in {lines:#?}"))
}

/// The conversation the script reported, after checking it went through.
fn held(output: &Output, lines: &[Value]) -> String {
    assert!(
        output.status.success(),
        "script failed: {lines:#?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(the(lines, "reply")["text"], format!("You said: {MESSAGE}"));
    assert_eq!(the(lines, "disconnect")["reason"], "user");
    let id = the(lines, "connected")["conversation_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(the(lines, "ended")["conversation_id"], id.as_str());
    id
}

#[tokio::test]
async fn the_official_python_sdk_holds_a_text_conversation_public_and_signed() {
    let env = match tokio::task::spawn_blocking(|| PythonEnv::ensure("elevenlabs-sdk", &[SDK]))
        .await
        .expect("install task")
    {
        Ok(env) => env,
        Err(error) => return skip(&error),
    };
    let private = AgentConfig {
        requires_auth: true,
        ..AgentConfig::new("agent_private")
    };
    let config = SimConfig::fast()
        .with_agent(AgentConfig::default_agent())
        .with_agent(private);
    let sim = Simulator::start(config).await.expect("start");
    let base = |agent: &str| {
        vec![
            "--base-url".to_owned(),
            sim.http_base_url(),
            "--agent-id".to_owned(),
            agent.to_owned(),
        ]
    };

    let (output, lines) = chat(&env, base(sim.default_agent_id())).await;
    let public = held(&output, &lines);
    let record = sim
        .wait_for_conversation(&public, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    assert!(sim.open_calls().is_empty(), "{:?}", sim.open_calls());
    let metadata = &record["metadata"];
    assert_eq!(metadata["conversation_initiation_source"], "python_sdk");
    assert_eq!(metadata["authorization_method"], "public");
    assert_eq!(metadata["termination_reason"], "Client disconnected");
    // What made the simulator refuse the SDK before: it is sent, and ignored.
    assert_eq!(
        record["conversation_initiation_client_data"]["conversation_config_override"]["text_only"],
        true
    );
    let said: Vec<&Value> = record["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .filter(|t| t["role"] == "user")
        .map(|t| &t["message"])
        .collect();
    assert_eq!(said, [MESSAGE]);

    let mut signed = base("agent_private");
    signed.extend(["--requires-auth".to_owned(), "--api-key".to_owned()]);
    signed.push(sim.api_key().to_owned());
    let (output, lines) = chat(&env, signed).await;
    let private = held(&output, &lines);
    let record = sim
        .wait_for_conversation(&private, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    assert_eq!(record["metadata"]["authorization_method"], "signed_url");
    assert!(sim.open_calls().is_empty(), "{:?}", sim.open_calls());
}
