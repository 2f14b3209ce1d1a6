//! The session service end to end against the ElevenLabs simulator.

mod common;

use common::{Stack, broke_user, rich_user};
use elevenlabs_sim::Fault;
use events::ConversationEvent;
use events::command::RefusalCode;
use events::conversation::{EndReason, FailureReason};
use eventstore::{ReplayFrom, StreamName};
use futures::TryStreamExt;
use serde_json::json;

fn kinds(events: &[ConversationEvent]) -> Vec<&'static str> {
    use events::DomainEvent;
    events.iter().map(|e| e.event_type()).collect()
}

#[tokio::test]
async fn a_text_conversation_ended_by_the_agent_is_recorded_with_latency_and_cost() {
    let stack = Stack::start().await;
    let mut call = stack.start_call(rich_user()).await.expect("started");
    call.init().await;
    let metadata = call.until("conversation_initiation_metadata").await;
    let elevenlabs_id = metadata["conversation_initiation_metadata_event"]["conversation_id"]
        .as_str()
        .expect("conv id")
        .to_owned();
    call.send(json!({"type": "user_message", "text": "hello there"}))
        .await;
    call.until("agent_response").await; // the greeting
    let answer = call.until("agent_response").await;
    assert_eq!(
        answer["agent_response_event"]["agent_response"],
        "You said: hello there"
    );
    call.send(json!({"type": "user_message", "text": "ok bye"}))
        .await;
    let (code, _) = call.until_close().await;
    assert_eq!(code, 1000);

    let conversation = call.started.conversation_id;
    let events = stack
        .events_until(conversation, |e| {
            matches!(e, ConversationEvent::AnalysisReported(_))
        })
        .await;
    let kinds = kinds(&events);
    assert_eq!(
        kinds[..2],
        ["conversation.requested", "conversation.started"]
    );
    assert!(kinds.contains(&"conversation.user_message"));
    let ended = events.iter().find_map(|e| match e {
        ConversationEvent::Ended(ended) => Some(ended),
        _ => None,
    });
    assert_eq!(ended.map(|e| e.reason), Some(EndReason::AgentEnded));
    let ConversationEvent::Started(started) = &events[1] else {
        panic!("started")
    };
    assert_eq!(started.elevenlabs_conversation_id, elevenlabs_id);
    let user_texts: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ConversationEvent::UserMessage(m) => Some(m.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(user_texts, ["hello there", "ok bye"]);
    let latencies: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ConversationEvent::AgentMessage(m) => Some(m.latency_ms),
            _ => None,
        })
        .collect();
    assert_eq!(
        latencies.iter().filter(|l| l.is_some()).count(),
        2,
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConversationEvent::CostReported(c) if c.credits.get() > 0))
    );
    let terminal = events
        .iter()
        .position(|e| e.is_terminal())
        .expect("terminal");
    assert_eq!(events.iter().filter(|e| e.is_terminal()).count(), 1);
    assert!(events[terminal + 1..].iter().all(|e| matches!(
        e,
        ConversationEvent::CostReported(_) | ConversationEvent::AnalysisReported(_)
    )));
}

#[tokio::test]
async fn a_user_without_credits_is_refused_and_the_attempt_recorded() {
    let stack = Stack::start().await;
    let Err(refusal) = stack.start_call(broke_user()).await else {
        panic!("a user without credits must be refused");
    };
    assert_eq!(refusal.code, RefusalCode::InsufficientCredits);
    let logged: Vec<_> = stack
        .store
        .replay(StreamName::Conversations, ReplayFrom::Beginning)
        .await
        .expect("replay")
        .try_collect()
        .await
        .expect("read");
    let kinds: Vec<_> = logged
        .iter()
        .map(|m| m.raw().expect("envelope").event_type)
        .collect();
    assert_eq!(kinds, ["conversation.requested", "conversation.failed"]);
    let failed = logged[1].decode::<ConversationEvent>().expect("decode");
    assert_eq!(failed.meta.user_id, Some(broke_user()));
    assert!(
        matches!(failed.event, ConversationEvent::Failed(f) if f.reason == FailureReason::Refused)
    );
}

#[tokio::test]
async fn a_client_that_drops_ends_the_call_as_disconnected() {
    let stack = Stack::start().await;
    let mut call = stack.start_call(rich_user()).await.expect("started");
    call.init().await;
    call.until("conversation_initiation_metadata").await;
    call.close(1006).await;
    let events = stack
        .events_until(call.started.conversation_id, |e| {
            matches!(e, ConversationEvent::CostReported(_))
        })
        .await;
    let ended = events.iter().find_map(|e| match e {
        ConversationEvent::Ended(ended) => Some(ended.clone()),
        _ => None,
    });
    assert_eq!(
        ended.map(|e| (e.reason, e.close_code)),
        Some((EndReason::ClientDisconnected, Some(1006)))
    );
}

#[tokio::test]
async fn an_upstream_crash_fails_the_call_and_closes_the_client_with_1011() {
    let stack = Stack::start().await;
    stack.sim.inject(Fault::Close1011 {
        after_agent_turns: 1,
    });
    let mut call = stack.start_call(rich_user()).await.expect("started");
    call.init().await;
    let (code, _) = call.until_close().await;
    assert_eq!(code, 1011);
    let events = stack
        .events_until(call.started.conversation_id, ConversationEvent::is_terminal)
        .await;
    let failed = events.iter().find_map(|e| match e {
        ConversationEvent::Failed(f) => Some(f.reason),
        _ => None,
    });
    assert_eq!(failed, Some(FailureReason::UpstreamError));
}

#[tokio::test]
async fn stopping_the_service_mid_call_closes_the_client_and_records_it() {
    let mut stack = Stack::start().await;
    let mut call = stack.start_call(rich_user()).await.expect("started");
    call.init().await;
    call.until("conversation_initiation_metadata").await;
    stack.stop_session().await;
    let (code, _) = call.until_close().await;
    assert_eq!(code, 1001);
    let events = stack
        .events_until(call.started.conversation_id, ConversationEvent::is_terminal)
        .await;
    assert!(events.iter().any(
        |e| matches!(e, ConversationEvent::Failed(f) if f.reason == FailureReason::SessionLost)
    ));
}

#[tokio::test]
async fn a_killed_session_service_leaves_its_call_to_be_closed_as_lost_on_restart() {
    let mut stack = Stack::bare().await;
    let config = stack.session_config();
    let mut process = std::process::Command::new(env!("CARGO_BIN_EXE_session"))
        .env("NATS_URL", &config.nats_url)
        .env("ELEVENLABS_BASE_URL", stack.sim.http_base_url())
        .env("ELEVENLABS_API_KEY", stack.sim.api_key())
        .env("PARLOR_SESSION_INSTANCE", "crashy")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("session binary");
    stack.wait_until_answering().await;
    let mut call = stack.start_call(rich_user()).await.expect("started");
    call.init().await;
    call.until("conversation_initiation_metadata").await;
    process.kill().expect("kill -9");
    process.wait().expect("reaped");

    let mut restarted = config;
    restarted.instance = "crashy".to_owned();
    stack.start_session(restarted).await;
    let events = stack
        .events_until(call.started.conversation_id, ConversationEvent::is_terminal)
        .await;
    assert!(
        events.iter().any(
            |e| matches!(e, ConversationEvent::Failed(f) if f.reason == FailureReason::SessionLost)
        ),
        "{events:#?}"
    );
    // The simulator's record of the abandoned call still yields its cost.
    stack
        .events_until(call.started.conversation_id, |e| {
            matches!(e, ConversationEvent::CostReported(_))
        })
        .await;
}
