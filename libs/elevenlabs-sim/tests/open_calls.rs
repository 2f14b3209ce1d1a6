//! Which upstream calls are still open: `Simulator::open_calls()` and
//! `GET /_sim/open-calls` list a conversation from its metadata until its
//! socket is gone, whichever side ends it and however.

mod common;

use common::*;
use elevenlabs_sim::{Fault, SimConfig, SimEvent, Simulator};
use serde_json::{Value, json};

/// `GET /_sim/open-calls`, as a test in another process would ask.
async fn open_calls_over_http(sim: &Simulator) -> Vec<String> {
    let body: Value = reqwest::get(format!("{}/_sim/open-calls", sim.http_base_url()))
        .await
        .expect("request")
        .error_for_status()
        .expect("200")
        .json()
        .await
        .expect("json");
    body["open_calls"]
        .as_array()
        .expect("open_calls array")
        .iter()
        .map(|id| id.as_str().expect("id").to_owned())
        .collect()
}

async fn ended(events: &mut tokio::sync::broadcast::Receiver<SimEvent>, id: &str) {
    wait_event(events, |e| match e {
        SimEvent::ConversationEnded {
            conversation_id, ..
        } if conversation_id == id => Some(()),
        _ => None,
    })
    .await;
}

async fn start_call(sim: &Simulator) -> (Ws, String) {
    let mut ws = open(&ws_url(sim, sim.default_agent_id()), json!({})).await;
    let id = conversation_id(&until(&mut ws, "conversation_initiation_metadata").await[0]);
    (ws, id)
}

#[tokio::test]
async fn calls_are_listed_until_closed_by_the_client_or_dropped_without_a_close() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut events = sim.subscribe();
    assert!(sim.open_calls().is_empty());
    let (mut closing, closing_id) = start_call(&sim).await;
    let (vanishing, vanishing_id) = start_call(&sim).await;
    let mut both = vec![closing_id.clone(), vanishing_id.clone()];
    both.sort();
    assert_eq!(sim.open_calls(), both);
    assert_eq!(open_calls_over_http(&sim).await, both);

    closing.close(None).await.expect("close");
    ended(&mut events, &closing_id).await;
    assert_eq!(sim.open_calls(), std::slice::from_ref(&vanishing_id));
    assert_eq!(
        open_calls_over_http(&sim).await,
        std::slice::from_ref(&vanishing_id)
    );

    // The TCP connection goes away with no close frame.
    drop(vanishing);
    ended(&mut events, &vanishing_id).await;
    assert!(sim.open_calls().is_empty());
    assert!(open_calls_over_http(&sim).await.is_empty());
}

#[tokio::test]
async fn calls_the_server_ends_or_drops_leave_the_list() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut events = sim.subscribe();

    let (mut hung_up, hung_up_id) = start_call(&sim).await;
    send(&mut hung_up, json!({"type": "user_message", "text": "bye"})).await;
    let (_, code, _) = until_close(&mut hung_up).await;
    assert_eq!(code, Some(1000), "the agent hangs up on bye");
    ended(&mut events, &hung_up_id).await;
    assert!(sim.open_calls().is_empty(), "{:?}", sim.open_calls());

    sim.inject(Fault::DropSocket {
        after_agent_turns: 1,
    });
    let (mut dropped, dropped_id) = start_call(&sim).await;
    let (_, code, reason) = until_close(&mut dropped).await;
    assert_eq!((code, reason.as_str()), (None, "gone"));
    ended(&mut events, &dropped_id).await;
    assert!(open_calls_over_http(&sim).await.is_empty());
}
