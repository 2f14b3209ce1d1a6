//! The conversation WebSocket against the simulator: text and audio calls,
//! barge-in, client tools, the agent's and the limit's endings, overrides.

mod support;

use elevenlabs::messages::{
    AgentOverride, ConfigOverride, ConversationInitiationClientData, SourceInfo,
};
use elevenlabs::{ClientMessage, CloseCode, EndKind, ErrorType, Initiator, ServerEvent};
use elevenlabs_sim::{AgentConfig, Reply, Responder, SimConfig, SimEvent, TimingConfig, ToolCall};
use serde_json::json;
use support::*;

fn text_agent(agent_id: &str) -> AgentConfig {
    AgentConfig {
        text_only: true,
        ..AgentConfig::new(agent_id)
    }
}

fn init() -> ConversationInitiationClientData {
    ConversationInitiationClientData {
        user_id: Some("user_42".into()),
        source_info: Some(SourceInfo {
            source: Some("parlor".into()),
            version: Some("test".into()),
        }),
        ..ConversationInitiationClientData::default()
    }
}

#[tokio::test]
async fn text_call_ends_when_the_agent_calls_end_call() {
    let (sim, endpoints) = start(SimConfig::fast().with_agent(text_agent("agent_text"))).await;
    let mut conversation = connect(&endpoints, "agent_text", init()).await;
    assert!(conversation.conversation_id().starts_with("conv_"));
    let (greeting, _) = until(&mut conversation, "the greeting", agent_text).await;
    assert_eq!(greeting, "Hi! How can I help you today?");

    conversation
        .send(ClientMessage::user_message("hello there"))
        .await
        .unwrap();
    let (heard, _) = until(&mut conversation, "the transcript", user_text).await;
    assert_eq!(heard, "hello there");
    let (reply, skipped) = until(&mut conversation, "the reply", agent_text).await;
    assert_eq!(reply, "You said: hello there");
    assert!(
        !skipped.iter().any(|e| matches!(e, ServerEvent::Audio(_))),
        "text mode has no audio"
    );

    conversation
        .send(ClientMessage::user_message("ok bye"))
        .await
        .unwrap();
    let rest = drain(&mut conversation).await;
    assert!(
        rest.iter()
            .any(|e| agent_text(e).as_deref() == Some("Goodbye!"))
    );
    assert!(rest.iter().any(ServerEvent::is_end_call));
    let end = conversation.finish().await.unwrap();
    assert_eq!(end.code, Some(CloseCode::Normal));
    assert_eq!(end.initiator, Initiator::Server);
    assert_eq!(end.kind(), EndKind::AgentEndedCall);
    drop(sim);
}

#[tokio::test]
async fn audio_call_streams_chunks_and_hears_utterances() {
    let agent = AgentConfig {
        audio_transcripts: vec!["what time is it".into()],
        ..AgentConfig::new("agent_audio")
    };
    let (sim, endpoints) = start(SimConfig::fast().with_agent(agent)).await;
    let mut conversation = connect(&endpoints, "agent_audio", init()).await;
    assert_eq!(
        conversation
            .metadata()
            .user_input_audio_format
            .sample_rate_hz(),
        Some(16000)
    );

    let (turn_id, _) = until(&mut conversation, "the greeting", |e| match e {
        ServerEvent::AgentResponse(r) => Some(r.event_id),
        _ => None,
    })
    .await;
    let (chunk, _) = until(&mut conversation, "greeting audio", |e| match e {
        ServerEvent::Audio(a) => Some(a.clone()),
        _ => None,
    })
    .await;
    assert_eq!(chunk.event_id, turn_id, "audio shares its turn's event_id");
    assert!(!chunk.decode().unwrap().is_empty());

    // A voiced second, then silence: one utterance.
    for voiced in [true, true, true, true, false, false, false] {
        conversation.send(pcm_chunk(voiced)).await.unwrap();
    }
    let (heard, _) = until(&mut conversation, "the transcript", user_text).await;
    assert_eq!(heard, "what time is it");
    let (reply, _) = until(&mut conversation, "the reply", agent_text).await;
    assert_eq!(reply, "You said: what time is it");
    until(&mut conversation, "reply audio", |e| {
        matches!(e, ServerEvent::Audio(_)).then_some(())
    })
    .await;

    let end = within("close", conversation.close()).await.unwrap();
    assert_eq!(end.initiator, Initiator::Client);
    assert_eq!(end.kind(), EndKind::ClientEnded);
    drop(sim);
}

#[tokio::test]
async fn pings_are_answered_by_the_connection_task() {
    let (sim, endpoints) = start(SimConfig::fast()).await;
    let mut sim_events = sim.subscribe();
    let conversation = connect(&endpoints, sim.default_agent_id(), init()).await;
    let id = conversation.conversation_id().to_owned();
    // Nobody reads the events: the task still answers.
    let pong = sim_event(&mut sim_events, "a pong", |e| match e {
        SimEvent::PongReceived {
            conversation_id,
            event_id,
            ..
        } if *conversation_id == id => Some(*event_id),
        _ => None,
    })
    .await;
    assert!(pong > 0);
    drop(conversation);
    drop(sim);
}

#[tokio::test]
async fn barge_in_gives_interruption_and_correction() {
    let agent = AgentConfig {
        first_message: Some("word ".repeat(60)),
        ..AgentConfig::new("agent_long")
    };
    let timing = TimingConfig {
        speech_pacing: 1.0,
        ..TimingConfig::fast()
    };
    let config = SimConfig {
        timing,
        ..SimConfig::fast().with_agent(agent)
    };
    let (sim, endpoints) = start(config).await;
    let mut conversation = connect(&endpoints, "agent_long", init()).await;
    let (turn_id, _) = until(&mut conversation, "first audio", |e| match e {
        ServerEvent::Audio(a) => Some(a.event_id),
        _ => None,
    })
    .await;
    conversation.send(pcm_chunk(true)).await.unwrap();
    let (interrupted, _) = until(&mut conversation, "the interruption", |e| match e {
        ServerEvent::Interruption(i) => Some(i.event_id),
        _ => None,
    })
    .await;
    assert_eq!(interrupted, turn_id);
    let (correction, _) = until(&mut conversation, "the correction", |e| match e {
        ServerEvent::AgentResponseCorrection(c) => Some(c.clone()),
        _ => None,
    })
    .await;
    assert_eq!(correction.event_id, turn_id);
    assert!(correction.corrected_agent_response.len() < correction.original_agent_response.len());
    within("close", conversation.close()).await.unwrap();
    drop(sim);
}

#[tokio::test]
async fn client_tool_round_trip() {
    let agent = AgentConfig {
        client_tools: vec!["get_weather".into()],
        responder: Responder::Scripted {
            replies: vec![Reply {
                text: "It is {result} today.".into(),
                tool_call: Some(ToolCall {
                    tool_name: "get_weather".into(),
                    parameters: json!({"city": "Paris"}),
                }),
                end_call: false,
            }],
        },
        ..text_agent("agent_tools")
    };
    let (sim, endpoints) = start(SimConfig::fast().with_agent(agent)).await;
    let mut conversation = connect(&endpoints, "agent_tools", init()).await;
    conversation
        .send(ClientMessage::user_message("weather?"))
        .await
        .unwrap();
    let (call, _) = until(&mut conversation, "the tool call", |e| match e {
        ServerEvent::ClientToolCall(call) => Some(call.clone()),
        _ => None,
    })
    .await;
    assert_eq!(call.tool_name, "get_weather");
    assert_eq!(call.parameters, json!({"city": "Paris"}));
    conversation
        .send(ClientMessage::tool_result(
            &call.tool_call_id,
            "sunny",
            false,
        ))
        .await
        .unwrap();
    let (response, _) = until(&mut conversation, "the tool response", |e| match e {
        ServerEvent::AgentToolResponse(r) => Some(r.clone()),
        _ => None,
    })
    .await;
    assert_eq!(response.tool_call_id, call.tool_call_id);
    assert!(!response.is_error);
    let (reply, _) = until(&mut conversation, "the reply", agent_text).await;
    assert_eq!(reply, "It is sunny today.");
    within("close", conversation.close()).await.unwrap();
    drop(sim);
}

#[tokio::test]
async fn max_duration_ends_with_its_error_and_1000() {
    let agent = AgentConfig {
        max_duration_secs: 0.3,
        ..text_agent("agent_short")
    };
    let (sim, endpoints) = start(SimConfig::fast().with_agent(agent)).await;
    let mut conversation = connect(&endpoints, "agent_short", init()).await;
    let events = drain(&mut conversation).await;
    assert!(events.iter().any(|e| matches!(e, ServerEvent::Error(error)
        if error.error_type.as_deref() == Some("max_duration_exceeded"))));
    let end = conversation.finish().await.unwrap();
    assert_eq!(end.code, Some(CloseCode::Normal));
    assert_eq!(end.kind(), EndKind::MaxDurationExceeded);
    drop(sim);
}

#[tokio::test]
async fn a_refused_override_closes_1008_after_the_metadata() {
    let (sim, endpoints) = start(SimConfig::fast()).await;
    let overriding = ConversationInitiationClientData {
        conversation_config_override: Some(ConfigOverride {
            agent: Some(AgentOverride {
                first_message: Some("Ahoy".into()),
                ..AgentOverride::default()
            }),
            ..ConfigOverride::default()
        }),
        ..init()
    };
    // The metadata arrives, so connecting succeeds; then the server closes.
    let mut conversation = connect(&endpoints, sim.default_agent_id(), overriding).await;
    drain(&mut conversation).await;
    let end = conversation.finish().await.unwrap();
    assert_eq!(end.code, Some(CloseCode::PolicyViolation));
    assert_eq!(end.kind(), EndKind::Rejected(ErrorType::OverrideError));
    drop(sim);
}
