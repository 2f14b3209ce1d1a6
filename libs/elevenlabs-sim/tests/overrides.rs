//! Overrides in `conversation_initiation_client_data` (§1.2.1): only the
//! documented paths are checked against the agent's allow-list; unknown
//! keys, such as the Python SDK 2.x's top-level `text_only`, are ignored.

mod common;

use common::*;
use elevenlabs_sim::{ConversationStatus, SimConfig, Simulator};
use serde_json::json;

#[tokio::test]
async fn the_python_sdk_text_only_initiation_holds_a_conversation() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut ws = connect(&ws_url(&sim, sim.default_agent_id())).await;
    // Byte for byte what `elevenlabs` 2.x sends with no audio interface.
    send(
        &mut ws,
        json!({
            "type": "conversation_initiation_client_data",
            "custom_llm_extra_body": {},
            "conversation_config_override": {"text_only": true},
            "dynamic_variables": {},
            "source_info": {"source": "python_sdk", "version": "2.78.0"},
        }),
    )
    .await;
    let meta = until(&mut ws, "conversation_initiation_metadata").await;
    let id = conversation_id(&meta[0]);
    send(&mut ws, json!({"type": "user_message", "text": "hi there"})).await;
    until(&mut ws, "user_transcript").await;
    let reply = until(&mut ws, "agent_response").await;
    assert!(of_type(&reply, "error").is_empty(), "{reply:?}");
    assert_eq!(
        reply.last().expect("reply")["agent_response_event"]["agent_response"],
        "You said: hi there"
    );
    ws.close(None).await.expect("close");
    let record = sim
        .wait_for_conversation(&id, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    assert_eq!(
        record["metadata"]["termination_reason"],
        "Client disconnected"
    );
    assert_eq!(
        record["conversation_initiation_client_data"]["conversation_config_override"]["text_only"],
        true
    );
}

#[tokio::test]
async fn unknown_keys_beside_a_disallowed_documented_one_still_close_1008() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut ws = open(
        &ws_url(&sim, sim.default_agent_id()),
        json!({"text_only": true, "tts": {"pitch": 3, "voice_id": "v1"}, "future": {"x": 1}}),
    )
    .await;
    let (events, code, reason) = until_close(&mut ws).await;
    let error = &of_type(&events, "error")[0]["error_event"];
    assert_eq!(error["error_type"], "override_error");
    assert_eq!(
        error["message"],
        "Override for field 'tts.voice_id' is not allowed by config."
    );
    assert_eq!((code, reason.as_str()), (Some(1008), "override_error"));
}

#[tokio::test]
async fn empty_sections_and_allowed_documented_paths_pass() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut ws = open(
        &ws_url(&sim, sim.default_agent_id()),
        json!({"tts": {}, "asr": {}, "agent": {"language": "de", "mood": "calm"}}),
    )
    .await;
    let events = until(&mut ws, "agent_response").await;
    assert!(of_type(&events, "error").is_empty(), "{events:?}");
    ws.close(None).await.expect("close");
}
