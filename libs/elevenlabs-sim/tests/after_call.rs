//! After the call: the REST record (`processing` → `done`, transcript,
//! duration, cost, charging, analysis), the REST surface's key check and
//! paging, and the signed `post_call_transcription` webhook.

mod common;

use common::*;
use elevenlabs_sim::{
    AgentConfig, ConversationStatus, RetryPolicy, SimConfig, SimEvent, Simulator, WebhookConfig,
};
use serde_json::{Value, json};

const SECRET: &str = "whsec_test_secret_0123456789";

async fn get(sim: &Simulator, path: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", sim.http_base_url()));
    if let Some(key) = key {
        request = request.header("xi-api-key", key);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_record_goes_processing_then_done_and_matches_the_audio_call() {
    let mut agent = AgentConfig::new("agent_rec");
    agent.audio_transcripts = vec!["please say bye".into()];
    let sim = Simulator::start(SimConfig::fast().with_agent(agent))
        .await
        .expect("start");
    let mut events = sim.subscribe();
    let opened = std::time::Instant::now();
    let mut ws = open(&ws_url(&sim, "agent_rec"), json!({})).await;
    let id = conversation_id(&until(&mut ws, "conversation_initiation_metadata").await[0]);

    let (status, live) = get(
        &sim,
        &format!("/v1/convai/conversations/{id}"),
        Some(sim.api_key()),
    )
    .await;
    assert_eq!(
        (status, live["status"].as_str()),
        (200, Some("in-progress"))
    );

    speak(&mut ws, 1000, 500).await;
    let (_, code, _) = until_close(&mut ws).await;
    let took = opened.elapsed();
    assert_eq!(code, Some(1000), "the rule for 'bye' ends the call");

    let processing = wait_event(&mut events, |e| match e {
        SimEvent::StatusChanged {
            conversation_id,
            status,
        } if *conversation_id == id => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(processing, ConversationStatus::InProgress);
    let next = wait_event(&mut events, |e| match e {
        SimEvent::StatusChanged {
            conversation_id,
            status,
        } if *conversation_id == id => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(next, ConversationStatus::Processing);
    sim.wait_for_conversation(&id, ConversationStatus::Done, WAIT)
        .await
        .expect("done");

    let (status, record) = get(
        &sim,
        &format!("/v1/convai/conversations/{id}"),
        Some(sim.api_key()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(record["status"], "done");
    assert_eq!(record["agent_id"], "agent_rec");
    assert_eq!(record["user_id"], "user-1");
    let roles: Vec<&str> = record["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .map(|t| t["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(roles, ["agent", "user", "agent"]);
    assert_eq!(record["transcript"][1]["message"], "please say bye");
    assert_eq!(record["transcript"][2]["message"], "Goodbye!");
    let metadata = &record["metadata"];
    // Wall-clock time, not the ~4 s the greeting, farewell and speech last.
    let duration = metadata["call_duration_secs"].as_u64().expect("duration");
    assert!(
        (1..=ceil_secs(took)).contains(&duration),
        "duration {duration} in {took:?}"
    );
    assert_eq!(metadata["cost"].as_u64(), Some((duration * 800 + 30) / 60));
    assert_eq!(metadata["charging"]["call_charge"], metadata["cost"]);
    assert_eq!(metadata["charging"]["tier"], "business");
    assert_eq!(metadata["termination_reason"], "end_call tool was called.");
    assert_eq!(metadata["conversation_initiation_source"], "python_sdk");
    assert_eq!(record["analysis"]["call_successful"], "success");
    assert_eq!(record["has_user_audio"], true);
    assert_eq!(
        record["conversation_initiation_client_data"]["dynamic_variables"]["user_name"],
        "Ada"
    );
}

#[tokio::test]
async fn a_live_record_shows_the_transcript_so_far_and_takes_feedback() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut ws = open(&sim.conversation_url(sim.default_agent_id()), json!({})).await;
    let id = conversation_id(&until(&mut ws, "conversation_initiation_metadata").await[0]);
    send(&mut ws, json!({"type": "user_message", "text": "status?"})).await;
    until(&mut ws, "user_transcript").await;
    let (_, live) = get(
        &sim,
        &format!("/v1/convai/conversations/{id}"),
        Some(sim.api_key()),
    )
    .await;
    assert_eq!(live["status"], "in-progress");
    let said: Vec<&str> = live["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .filter(|t| t["role"] == "user")
        .map(|t| t["message"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(said, ["status?"]);
    let user_turn = live["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .find(|t| t["role"] == "user")
        .cloned();
    assert_eq!(user_turn.expect("user turn")["source_medium"], "text");

    // Rate the greeting over the socket, then the call over REST.
    let greeting = live["transcript"][0]["source_event_id"].clone();
    send(
        &mut ws,
        json!({"type": "feedback", "score": "like", "event_id": greeting}),
    )
    .await;
    send(&mut ws, json!({"type": "user_message", "text": "bye"})).await;
    until_close(&mut ws).await;
    let url = format!(
        "{}/v1/convai/conversations/{id}/feedback",
        sim.http_base_url()
    );
    let rated = reqwest::Client::new()
        .post(&url)
        .header("xi-api-key", sim.api_key())
        .json(&json!({"feedback": "dislike"}))
        .send()
        .await
        .expect("post");
    assert_eq!(rated.status().as_u16(), 200);
    let record = sim
        .wait_for_conversation(&id, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    assert_eq!(record["transcript"][0]["feedback"]["score"], "like");
    assert_eq!(
        record["metadata"]["feedback"],
        json!({"overall_score": "dislike", "likes": 1, "dislikes": 1})
    );
}

#[tokio::test]
async fn rest_checks_the_key_pages_and_deletes() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    for key in [None, Some("sk_wrong")] {
        let (status, body) = get(&sim, "/v1/convai/conversations", key).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}})
        );
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(short_text_call(&sim).await);
    }
    let key = Some(sim.api_key());
    let (_, page) = get(&sim, "/v1/convai/conversations?page_size=2", key).await;
    assert_eq!(page["has_more"], true);
    let first: Vec<&str> = page["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["conversation_id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(first, [ids[2].as_str(), ids[1].as_str()]);
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let (_, page) = get(
        &sim,
        &format!("/v1/convai/conversations?page_size=2&cursor={cursor}"),
        key,
    )
    .await;
    assert_eq!(page["conversations"][0]["conversation_id"], ids[0].as_str());
    assert_eq!(page["has_more"], false);
    assert_eq!(page["next_cursor"], Value::Null);

    let (status, body) = get(&sim, "/v1/convai/conversations?page_size=0", key).await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["loc"], json!(["query", "page_size"]));

    let url = format!("{}/v1/convai/conversations/{}", sim.http_base_url(), ids[0]);
    let deleted = reqwest::Client::new()
        .delete(&url)
        .header("xi-api-key", sim.api_key())
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status().as_u16(), 200);
    let (status, body) = get(&sim, &format!("/v1/convai/conversations/{}", ids[0]), key).await;
    assert_eq!(status, 404);
    assert_eq!(body["detail"]["status"], "conversation_not_found");

    let (status, agent) = get(
        &sim,
        &format!("/v1/convai/agents/{}", sim.default_agent_id()),
        key,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        agent["conversation_config"]["conversation"]["max_duration_seconds"],
        600
    );
    assert_eq!(get(&sim, "/v1/convai/agents/agent_nope", key).await.0, 404);
}

#[tokio::test]
async fn the_webhook_is_signed_and_carries_the_record() {
    let (url, mut deliveries) = webhook_server(vec![]).await;
    let sim = Simulator::start(SimConfig::fast().with_webhook(WebhookConfig::new(url, SECRET)))
        .await
        .expect("start");
    let id = short_text_call(&sim).await;
    let delivery = tokio::time::timeout(WAIT, deliveries.recv())
        .await
        .expect("in time")
        .expect("delivery");
    let header = delivery.signature.expect("ElevenLabs-Signature header");
    assert!(
        verify_signature(SECRET, &header, &delivery.body),
        "{header}"
    );
    assert!(!verify_signature("other secret", &header, &delivery.body));
    let envelope: Value = serde_json::from_slice(&delivery.body).expect("json");
    assert_eq!(envelope["type"], "post_call_transcription");
    assert!(envelope["event_timestamp"].as_u64().is_some());
    let record = sim.conversation(&id).expect("record");
    assert_eq!(envelope["data"], record);
    assert_eq!(envelope["data"]["status"], "done");
}

#[tokio::test]
async fn failed_webhooks_are_retried_as_configured() {
    let (url, mut deliveries) = webhook_server(vec![500, 503]).await;
    let webhook = WebhookConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: std::time::Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..WebhookConfig::new(url, SECRET)
    };
    let sim = Simulator::start(SimConfig::fast().with_webhook(webhook))
        .await
        .expect("start");
    let mut events = sim.subscribe();
    let id = short_text_call(&sim).await;
    let attempt = wait_event(&mut events, |e| match e {
        SimEvent::WebhookDelivered {
            conversation_id,
            attempt,
        } if *conversation_id == id => Some(*attempt),
        _ => None,
    })
    .await;
    assert_eq!(attempt, 3);
    for _ in 0..3 {
        let d = deliveries.recv().await.expect("delivery");
        assert!(verify_signature(
            SECRET,
            d.signature.as_deref().unwrap_or(""),
            &d.body
        ));
    }
}

#[tokio::test]
async fn without_retries_a_failed_webhook_is_reported_once() {
    let (url, _deliveries) = webhook_server(vec![500]).await;
    let sim = Simulator::start(SimConfig::fast().with_webhook(WebhookConfig::new(url, SECRET)))
        .await
        .expect("start");
    let mut events = sim.subscribe();
    let id = short_text_call(&sim).await;
    let (attempts, error) = wait_event(&mut events, |e| match e {
        SimEvent::WebhookFailed {
            conversation_id,
            attempts,
            error,
        } if *conversation_id == id => Some((*attempts, error.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        (attempts, error.as_str()),
        (1, "HTTP 500 Internal Server Error")
    );
}
