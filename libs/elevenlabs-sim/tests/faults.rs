//! Every injectable fault, as a raw client sees it.

mod common;

use common::*;
use elevenlabs_sim::{
    ConversationStatus, Fault, FaultRule, SimConfig, SimEvent, Simulator, WebhookConfig,
};
use serde_json::json;
use tokio_tungstenite::tungstenite;

const SECRET: &str = "whsec_fault_secret_0123";

#[tokio::test]
async fn drop_socket_ends_the_stream_without_a_close_frame() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    sim.inject(Fault::DropSocket {
        after_agent_turns: 1,
    });
    let mut ws = open(&ws_url(&sim, sim.default_agent_id()), json!({})).await;
    let id = conversation_id(&until(&mut ws, "conversation_initiation_metadata").await[0]);
    let (events, code, reason) = until_close(&mut ws).await;
    assert!(
        !of_type(&events, "agent_response").is_empty(),
        "greeting first"
    );
    assert_eq!((code, reason.as_str()), (None, "gone"));
    let record = sim
        .wait_for_conversation(&id, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    assert_eq!(record["metadata"]["error"]["code"], 1006);
    assert_eq!(record["analysis"]["call_successful"], "failure");
}

#[tokio::test]
async fn close_1011_sends_the_crash_error_first() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    sim.inject(Fault::Close1011 {
        after_agent_turns: 0,
    });
    let mut ws = open(&ws_url(&sim, sim.default_agent_id()), json!({})).await;
    let (events, code, reason) = until_close(&mut ws).await;
    assert_eq!(events[0]["type"], "conversation_initiation_metadata");
    assert_eq!(
        of_type(&events, "error")[0]["error_event"]["error_type"],
        "unknown_websocket_crash"
    );
    assert_eq!(
        (code, reason.as_str()),
        (Some(1011), "unknown_websocket_crash")
    );
}

#[tokio::test]
async fn refuse_ws_429_fails_the_upgrade_once() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    sim.inject(Fault::RefuseWs429);
    let url = ws_url(&sim, sim.default_agent_id());
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 429),
        other => panic!("expected HTTP 429, got {other:?}"),
    }
    let mut ws = open(&url, json!({})).await;
    until(&mut ws, "conversation_initiation_metadata").await;
}

#[tokio::test]
async fn refuse_rest_429_uses_the_documented_body_and_retry_after() {
    let config = SimConfig {
        retry_after_secs: Some(2),
        ..SimConfig::fast()
    };
    let sim = Simulator::start(config).await.expect("start");
    sim.inject(FaultRule {
        fault: Fault::RefuseRest429,
        times: Some(2),
    });
    let client = reqwest::Client::new();
    let url = format!("{}/v1/convai/conversations", sim.http_base_url());
    for _ in 0..2 {
        let response = client
            .get(&url)
            .header("xi-api-key", sim.api_key())
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 429);
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok());
        assert_eq!(retry_after, Some("2"));
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["detail"]["status"], "too_many_concurrent_requests");
    }
    let response = client
        .get(&url)
        .header("xi-api-key", sim.api_key())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn a_delayed_webhook_still_arrives_and_a_lost_one_never_does() {
    let (url, mut deliveries) = webhook_server(vec![]).await;
    let sim = Simulator::start(SimConfig::fast().with_webhook(WebhookConfig::new(url, SECRET)))
        .await
        .expect("start");
    let mut events = sim.subscribe();

    sim.inject(Fault::LoseWebhook);
    let lost = short_text_call(&sim).await;
    wait_event(&mut events, |e| {
        matches!(e, SimEvent::WebhookLost { conversation_id } if *conversation_id == lost)
            .then_some(())
    })
    .await;

    sim.inject(Fault::DelayWebhook(std::time::Duration::from_millis(200)));
    let delayed = short_text_call(&sim).await;
    let delivery = tokio::time::timeout(WAIT, deliveries.recv())
        .await
        .expect("in time")
        .expect("delivery");
    let envelope: serde_json::Value = serde_json::from_slice(&delivery.body).expect("json");
    assert_eq!(
        envelope["data"]["conversation_id"],
        delayed.as_str(),
        "the lost one never came"
    );
    assert!(deliveries.try_recv().is_err());
}

#[tokio::test]
async fn cost_delta_reports_a_cost_away_from_the_duration_estimate() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    sim.inject(Fault::CostDelta(150));
    let id = short_text_call(&sim).await;
    let record = sim
        .wait_for_conversation(&id, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    let duration = record["metadata"]["call_duration_secs"]
        .as_u64()
        .expect("duration");
    let estimate = (duration * 800 + 30) / 60;
    assert_eq!(record["metadata"]["cost"].as_u64(), Some(estimate + 150));
}

#[tokio::test]
async fn faults_armed_in_the_config_apply_from_the_start() {
    let config = SimConfig {
        faults: vec![FaultRule::always(Fault::RefuseWs429)],
        ..SimConfig::fast()
    };
    let sim = Simulator::start(config).await.expect("start");
    for _ in 0..2 {
        let refused = tokio_tungstenite::connect_async(ws_url(&sim, sim.default_agent_id())).await;
        assert!(matches!(refused, Err(tungstenite::Error::Http(r)) if r.status().as_u16() == 429));
    }
    sim.clear_faults();
    let mut ws = open(&ws_url(&sim, sim.default_agent_id()), json!({})).await;
    until(&mut ws, "conversation_initiation_metadata").await;
}
