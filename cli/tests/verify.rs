//! `parlor rebuild --verify` against the simulator's records of a real call
//! through the whole stack, while its projector runs: no drift, and the
//! call's document survives the swap.

#[path = "e2e/harness.rs"]
#[allow(dead_code)]
mod harness;

use elevenlabs::{ClientMessage, ServerEvent};
use serde_json::json;

use harness::E2e;

#[tokio::test]
async fn a_verified_rebuild_finds_no_drift_from_elevenlabs() {
    let e2e = E2e::start().await;
    let (_, token) = e2e.user(10_000).await;
    let text_only = json!({"conversation_config_override": {"conversation": {"text_only": true}}});
    let mut call = e2e.connect(&token, text_only).await.expect("connected");
    let elevenlabs_id = call.conversation_id().to_owned();
    // The simulated agent ends the call when told bye.
    let mut lines = ["hello", "ok, bye"].into_iter();
    while let Some(event) = call.next_event().await {
        if let ServerEvent::AgentResponse(_) = event
            && let Some(line) = lines.next()
        {
            call.send(ClientMessage::user_message(line))
                .await
                .expect("send");
        }
    }
    call.finish().await.expect("ended");
    let done = e2e
        .document_of(&elevenlabs_id, |d| {
            let reported = d
                .get_document("metadata")
                .and_then(|m| m.get_i64("reported_credits"));
            d.get_str("status") == Ok("done")
                && reported.is_ok_and(|credits| d.get_f64("cost") == Ok(credits as f64))
        })
        .await;

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["rebuild", "--verify"])
        .env("NATS_URL", &e2e.config.nats_url)
        .env("MONGODB_URI", &e2e.config.mongodb_uri)
        .env("MONGODB_DATABASE", &e2e.config.mongodb_database)
        .env("ELEVENLABS_API_KEY", e2e.sim.api_key())
        .env("ELEVENLABS_BASE_URL", e2e.sim.http_base_url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("parlor rebuild --verify");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("verified 1 conversations against ElevenLabs: 0 figures differ"),
        "{stdout}"
    );
    let after = e2e.document_of(&elevenlabs_id, |_| true).await;
    assert_eq!(after, done);
    e2e.stop().await;
}
