//! Agents over REST (§2.1, §2.4): create, read back, talk to, delete.

mod common;

use common::*;
use elevenlabs_sim::{SimConfig, Simulator};
use serde_json::{Value, json};

#[tokio::test]
async fn an_agent_created_over_rest_answers_calls_until_deleted() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let client = reqwest::Client::new();
    let base = sim.http_base_url();
    let create = json!({
        "name": "Made over REST",
        "conversation_config": {
            "agent": {"first_message": "Created!", "prompt": {"prompt": "Be brief.", "tools": [{"type": "client", "name": "ping_tool"}]}},
            "conversation": {"max_duration_seconds": 120},
            "tts": {"agent_output_audio_format": "pcm_24000"},
        },
        "platform_settings": {"overrides": {"conversation_config_override": {"agent": {"first_message": true, "language": false}}}},
    });
    let unauthorised = client
        .post(format!("{base}/v1/convai/agents/create"))
        .json(&create)
        .send()
        .await
        .expect("post");
    assert_eq!(unauthorised.status().as_u16(), 401);
    let created: Value = client
        .post(format!("{base}/v1/convai/agents/create"))
        .header("xi-api-key", sim.api_key())
        .json(&create)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let agent_id = created["agent_id"].as_str().expect("agent_id").to_owned();
    assert!(agent_id.starts_with("agent_"));

    let details: Value = client
        .get(format!("{base}/v1/convai/agents/{agent_id}"))
        .header("xi-api-key", sim.api_key())
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(details["name"], "Made over REST");
    let config = &details["conversation_config"];
    assert_eq!(config["conversation"]["max_duration_seconds"], 120);
    assert_eq!(config["tts"]["agent_output_audio_format"], "pcm_24000");
    assert_eq!(config["agent"]["prompt"]["tools"][0]["name"], "ping_tool");
    let overrides = &details["platform_settings"]["overrides"]["conversation_config_override"];
    assert_eq!(overrides["agent"]["first_message"], true);
    assert_eq!(overrides["agent"]["language"], false);

    let mut ws = open(&sim.conversation_url(&agent_id), json!({})).await;
    let events = until(&mut ws, "agent_response").await;
    assert_eq!(
        events[0]["conversation_initiation_metadata_event"]["agent_output_audio_format"],
        "pcm_24000"
    );
    assert_eq!(
        events.last().expect("reply")["agent_response_event"]["agent_response"],
        "Created!"
    );
    ws.close(None).await.expect("close");

    let bad = client
        .post(format!("{base}/v1/convai/agents/create"))
        .header("xi-api-key", sim.api_key())
        .json(&json!({"name": "no config"}))
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status().as_u16(), 422);

    let url = format!("{base}/v1/convai/agents/{agent_id}");
    let deleted = client
        .delete(&url)
        .header("xi-api-key", sim.api_key())
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status().as_u16(), 200);
    let gone = client
        .get(&url)
        .header("xi-api-key", sim.api_key())
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status().as_u16(), 404);
    let mut refused = connect(&sim.conversation_url(&agent_id)).await;
    assert_eq!(until_close(&mut refused).await.1, Some(1008));
}
