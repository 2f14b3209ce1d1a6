//! Calls are billed their wall-clock duration, from the socket's open to its
//! close, rounded up to whole seconds: simulated speech that runs ahead of
//! the clock (fast mode, interrupted turns) is not billed (§4.2).
//!
//! No sleeps: the billed duration must lie between the ceilings of an inner
//! span (metadata seen .. close sent) and an outer one (before connecting ..
//! close acknowledged) that the test measures itself.

mod common;

use std::time::Instant;

use common::*;
use elevenlabs_sim::pricing::call_credits;
use elevenlabs_sim::{ConversationStatus, SimConfig, Simulator, Tier, WebhookConfig};
use futures::StreamExt;
use serde_json::{Value, json};

const SECRET: &str = "whsec_billing";
/// Long echoed messages: each reply takes ~40 s to read at 15 chars/s.
const MESSAGES: usize = 20;

/// Sends our close and reads to the server's, which completes the handshake.
async fn close_and_drain(ws: &mut Ws) {
    ws.close(None).await.expect("close");
    let drained = tokio::time::timeout(WAIT, async {
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
        }
    });
    drained.await.expect("the server acknowledged the close");
}

#[tokio::test]
async fn a_flooded_fast_call_is_billed_its_wall_clock_time_in_the_record_and_webhook() {
    let (url, mut deliveries) = webhook_server(vec![]).await;
    let sim = Simulator::start(SimConfig::fast().with_webhook(WebhookConfig::new(url, SECRET)))
        .await
        .expect("start");
    let outer_start = Instant::now();
    let text_only = json!({"conversation": {"text_only": true}});
    let mut ws = open(&ws_url(&sim, sim.default_agent_id()), text_only).await;
    let id = conversation_id(&until(&mut ws, "conversation_initiation_metadata").await[0]);
    let inner_start = Instant::now();
    let filler = "words to read aloud ".repeat(30);
    for i in 0..MESSAGES {
        let text = format!("msg {i} {filler}");
        send(&mut ws, json!({"type": "user_message", "text": text})).await;
    }
    let last = format!("You said: msg {} ", MESSAGES - 1);
    loop {
        let events = until(&mut ws, "agent_response").await;
        let said = events.last().expect("reply")["agent_response_event"]["agent_response"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if said.starts_with(&last) {
            break;
        }
    }
    let inner = inner_start.elapsed();
    close_and_drain(&mut ws).await;
    let outer = outer_start.elapsed();

    let record = sim
        .wait_for_conversation(&id, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    let billed = record["metadata"]["call_duration_secs"]
        .as_u64()
        .expect("duration");
    assert!(
        (ceil_secs(inner)..=ceil_secs(outer)).contains(&billed),
        "billed {billed} s, the call took {inner:?} .. {outer:?}"
    );
    let cost = call_credits(Tier::Business, billed);
    assert_eq!(record["metadata"]["cost"].as_u64(), Some(cost));
    assert_eq!(
        record["metadata"]["charging"]["call_charge"].as_u64(),
        Some(cost)
    );
    let turns = record["transcript"].as_array().expect("transcript");
    assert!(turns.len() > MESSAGES, "{turns:?}");
    assert!(
        turns
            .iter()
            .all(|t| t["time_in_call_secs"].as_u64().is_some_and(|s| s <= billed)),
        "turn offsets run past the billed time: {turns:?}"
    );

    let delivery = tokio::time::timeout(WAIT, deliveries.recv())
        .await
        .expect("in time")
        .expect("delivery");
    let envelope: Value = serde_json::from_slice(&delivery.body).expect("json");
    assert_eq!(envelope["data"]["conversation_id"], id.as_str());
    assert_eq!(envelope["data"]["metadata"]["call_duration_secs"], billed);
    assert_eq!(envelope["data"]["metadata"]["cost"].as_u64(), Some(cost));
}

#[tokio::test]
async fn a_call_that_opened_bills_at_least_one_second() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let outer_start = Instant::now();
    let mut ws = open(&ws_url(&sim, sim.default_agent_id()), json!({})).await;
    let id = conversation_id(&until(&mut ws, "conversation_initiation_metadata").await[0]);
    close_and_drain(&mut ws).await;
    let outer = outer_start.elapsed();
    let record = sim
        .wait_for_conversation(&id, ConversationStatus::Done, WAIT)
        .await
        .expect("done");
    let billed = record["metadata"]["call_duration_secs"]
        .as_u64()
        .expect("duration");
    assert!(
        (1..=ceil_secs(outer)).contains(&billed),
        "billed {billed} s in {outer:?}"
    );
    assert_eq!(
        record["metadata"]["cost"].as_u64(),
        Some(call_credits(Tier::Business, billed))
    );
}
