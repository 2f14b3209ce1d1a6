//! ElevenLabs' official Python SDK (`elevenlabs` 2.x, no audio interface)
//! holds a text conversation through the gateway, with a Parlor token as
//! its API key: signed URL from the gateway, the conversation over the
//! gateway's WebSocket, and the call in the log and the ledger after.

use std::process::Output;

use events::ConversationEvent;
use events::conversation::EndReason;
use serde_json::Value;
use testkit::python::PythonEnv;

use super::harness::E2e;
use super::shape::id_of;

const SDK: &str = "elevenlabs>=2,<3";
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../libs/elevenlabs-sim/tests/python/text_chat.py"
);
const MESSAGE: &str = "hello through parlor";

fn line<'a>(lines: &'a [Value], event: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["event"] == event)
        .unwrap_or_else(|| panic!("no {event} in {lines:#?}"))
}

#[tokio::test]
async fn the_official_python_sdk_talks_through_the_gateway() {
    let env = match tokio::task::spawn_blocking(|| PythonEnv::ensure("elevenlabs-sdk", &[SDK]))
        .await
        .expect("install task")
    {
        Ok(env) => env,
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("skipping the Python SDK test: {error}");
            }
            return;
        }
    };
    let e2e = E2e::start().await;
    let (user, token) = e2e.user(10_000).await;
    let mut command = env.command();
    command.arg(SCRIPT).args([
        "--base-url",
        &e2e.gateway_http(),
        "--agent-id",
        e2e.sim.default_agent_id(),
        "--requires-auth",
        "--api-key",
        &token,
        "--message",
        MESSAGE,
    ]);
    let output: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("script task")
        .expect("run the script");
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(
        output.status.success(),
        "script failed: {lines:#?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        line(&lines, "reply")["text"],
        format!("You said: {MESSAGE}")
    );
    assert_eq!(line(&lines, "disconnect")["reason"], "user");
    let elevenlabs_id = line(&lines, "connected")["conversation_id"]
        .as_str()
        .expect("id")
        .to_owned();

    let document = e2e.document_of(&elevenlabs_id, |_| true).await;
    let events = e2e
        .events_until(id_of(&document), ConversationEvent::is_terminal)
        .await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConversationEvent::Started(s) if s.text_only)),
        "the SDK's text-only chat is recorded as one: {events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConversationEvent::Ended(e) if e.reason == EndReason::UserEnded))
    );
    e2e.settled_balance(user, |b| b.held.get() == 0).await;
    e2e.no_open_upstream(&elevenlabs_id).await;
    e2e.stop().await;
}
