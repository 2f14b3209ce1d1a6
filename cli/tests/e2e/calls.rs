//! One conversation at a time through the whole stack: what the client
//! sees, what the log holds, the Conversation document field by field, and
//! the ledger after ElevenLabs' cost report.

use elevenlabs::{ClientMessage, CloseCode, ConnectError, EndKind, ServerEvent};
use elevenlabs_sim::{AgentConfig, Fault, SimConfig, TimingConfig};
use events::ConversationEvent;
use events::conversation::{EndReason, FailureReason};
use serde_json::json;

use super::harness::{E2e, doomed_session, pcm};
use super::shape::{assert_prisma_shape, id_of, kinds, reconciled, reported_credits, status_is};

const GRANT: i64 = 10_000;
const TEXT_ONLY: fn() -> serde_json::Value =
    || json!({"conversation_config_override": {"conversation": {"text_only": true}}});

#[tokio::test]
async fn a_text_conversation_ended_by_the_agent() {
    let e2e = E2e::start().await;
    let (user, token) = e2e.user(GRANT).await;
    let mut call = e2e
        .connect(&token, TEXT_ONLY())
        .await
        .expect("connected through the gateway");
    let elevenlabs_id = call.conversation_id().to_owned();
    let mut said = Vec::new();
    while let Some(event) = call.next_event().await {
        if let ServerEvent::AgentResponse(r) = event {
            let line = if said.is_empty() { "hello" } else { "ok, bye" };
            if said.len() < 2 {
                call.send(ClientMessage::user_message(line))
                    .await
                    .expect("send");
                said.push(r.agent_response);
            }
        }
    }
    let end = call.finish().await.expect("ended");
    assert_eq!(end.kind(), EndKind::AgentEndedCall);
    assert_eq!(said[1], "You said: hello");

    let in_progress_or_later = e2e.document_of(&elevenlabs_id, |_| true).await;
    assert_prisma_shape(&in_progress_or_later);
    let conversation = id_of(&in_progress_or_later);
    let events = e2e
        .events_until(conversation, |e| {
            matches!(e, ConversationEvent::AnalysisReported(_))
        })
        .await;
    let kinds = kinds(&events);
    assert_eq!(
        kinds[..2],
        ["conversation.requested", "conversation.started"]
    );
    for kind in [
        "conversation.user_message",
        "conversation.agent_message",
        "conversation.ended",
        "conversation.cost_reported",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConversationEvent::Ended(x) if x.reason == EndReason::AgentEnded))
    );
    let actual = reported_credits(&events);

    let document = e2e.document_of(&elevenlabs_id, reconciled(actual)).await;
    assert_prisma_shape(&document);
    assert_eq!(
        document.get_object_id("userId").expect("userId").bytes(),
        user.bytes()
    );
    assert_eq!(document.get_str("agentId"), Ok(e2e.sim.default_agent_id()));
    let transcript = document.get_str("transcript").expect("transcript");
    assert!(
        transcript.contains("user: hello") && transcript.contains("agent: You said: hello"),
        "{transcript}"
    );
    let messages = document.get_array("messages").expect("messages");
    assert_eq!(
        messages.len(),
        5,
        "greeting, hello, answer, bye, goodbye: {messages:#?}"
    );
    let answer = messages[2].as_document().expect("answer");
    assert!(
        answer.get_i32("latencyMs").is_ok(),
        "the answer carries its latency: {answer:?}"
    );
    let metrics = document.get_document("metrics").expect("metrics");
    assert_eq!(metrics.get_i32("messageCount"), Ok(5));
    assert_eq!(metrics.get_f64("creditsUsed"), Ok(actual as f64));
    let duration = document.get_i32("duration").expect("duration");
    let per_minute = metrics.get_f64("costPerMinute").expect("costPerMinute");
    if duration > 0 {
        assert!((per_minute - actual as f64 / (f64::from(duration) / 60.0)).abs() < 1e-6);
    }

    let balance = e2e
        .settled_balance(user, |b| {
            b.held.get() == 0 && b.available.get() == GRANT - actual
        })
        .await;
    assert_eq!(balance.available.get(), GRANT - actual);
    e2e.stop().await;
}

#[tokio::test]
async fn an_audio_conversation_with_a_barge_in() {
    let mut config = SimConfig::fast().with_agent(AgentConfig {
        first_message: Some(
            "This is a long greeting that goes on and on for quite a few seconds of speech.".into(),
        ),
        ..AgentConfig::default_agent()
    });
    // Real-time speech, so the user can talk over the agent.
    config.timing = TimingConfig {
        speech_pacing: 1.0,
        ..TimingConfig::fast()
    };
    let e2e = E2e::start_with(config).await;
    let (user, token) = e2e.user(GRANT).await;
    let mut call = e2e.connect(&token, json!({})).await.expect("connected");
    let elevenlabs_id = call.conversation_id().to_owned();
    let mut spoke = false;
    let mut corrected = None;
    while let Some(event) = call.next_event().await {
        match event {
            ServerEvent::Audio(_) if !spoke => {
                spoke = true;
                for (ms, loud) in [
                    (250, true),
                    (250, true),
                    (250, false),
                    (250, false),
                    (250, false),
                ] {
                    let chunk = serde_json::json!({ "user_audio_chunk": pcm(ms, loud) });
                    call.send(ClientMessage::parse(&chunk.to_string()).expect("chunk"))
                        .await
                        .expect("send");
                }
            }
            ServerEvent::AgentResponseCorrection(c) => corrected = Some(c.corrected_agent_response),
            ServerEvent::AgentResponse(_) if corrected.is_some() => break,
            _ => {}
        }
    }
    let corrected = corrected.expect("the barge-in was corrected");
    let end = call.close().await.expect("closed");
    assert_eq!(end.kind(), EndKind::ClientEnded);

    let document = e2e.document_of(&elevenlabs_id, status_is("done")).await;
    assert_prisma_shape(&document);
    let events = e2e
        .events_until(id_of(&document), |e| {
            matches!(e, ConversationEvent::CostReported(_))
        })
        .await;
    let kinds = kinds(&events);
    assert!(
        kinds.contains(&"conversation.interrupted")
            && kinds.contains(&"conversation.agent_message_corrected"),
        "{kinds:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConversationEvent::Ended(x) if x.reason == EndReason::UserEnded))
    );
    let greeting = document.get_array("messages").expect("messages")[0]
        .as_document()
        .expect("greeting")
        .clone();
    assert_eq!(greeting.get_bool("interrupted"), Ok(true), "{greeting:?}");
    assert_eq!(greeting.get_str("message"), Ok(corrected.as_str()));
    let actual = reported_credits(&events);
    e2e.document_of(&elevenlabs_id, reconciled(actual)).await;
    e2e.settled_balance(user, |b| {
        b.held.get() == 0 && b.available.get() == GRANT - actual
    })
    .await;
    e2e.stop().await;
}

#[tokio::test]
async fn a_client_that_just_drops() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let e2e = E2e::start().await;
    let (user, token) = e2e.user(GRANT).await;
    let mut request = e2e.ws_url().into_client_request().expect("request");
    request
        .headers_mut()
        .insert("xi-api-key", token.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    socket
        .send(Message::text(
            json!({"type": "conversation_initiation_client_data"}).to_string(),
        ))
        .await
        .expect("init");
    let elevenlabs_id = loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            panic!("no metadata")
        };
        let frame: serde_json::Value = serde_json::from_str(&text).expect("json");
        if frame["type"] == "conversation_initiation_metadata" {
            break frame["conversation_initiation_metadata_event"]["conversation_id"]
                .as_str()
                .expect("id")
                .to_owned();
        }
    };
    drop(socket); // no close frame: the TCP connection just goes away

    let document = e2e.document_of(&elevenlabs_id, status_is("done")).await;
    assert_prisma_shape(&document);
    let events = e2e
        .events_until(id_of(&document), |e| {
            matches!(e, ConversationEvent::CostReported(_))
        })
        .await;
    assert!(
        events.iter().any(|e| matches!(e, ConversationEvent::Ended(x) if x.reason == EndReason::ClientDisconnected)),
        "{events:#?}"
    );
    let actual = reported_credits(&events);
    e2e.settled_balance(user, |b| {
        b.held.get() == 0 && b.available.get() == GRANT - actual
    })
    .await;
    e2e.stop().await;
}

#[tokio::test]
async fn an_upstream_that_crashes() {
    let e2e = E2e::start().await;
    e2e.sim.inject(Fault::Close1011 {
        after_agent_turns: 1,
    });
    let (user, token) = e2e.user(GRANT).await;
    let mut call = e2e.connect(&token, TEXT_ONLY()).await.expect("connected");
    let elevenlabs_id = call.conversation_id().to_owned();
    while call.next_event().await.is_some() {}
    let end = call.finish().await.expect("closed");
    assert_eq!(end.code, Some(CloseCode::InternalError));

    let document = e2e.document_of(&elevenlabs_id, status_is("failed")).await;
    assert_prisma_shape(&document);
    let events = e2e
        .events_until(id_of(&document), ConversationEvent::is_terminal)
        .await;
    assert!(events.iter().any(
        |e| matches!(e, ConversationEvent::Failed(f) if f.reason == FailureReason::UpstreamError)
    ));
    // The hold is released; what was charged is ElevenLabs' figure once it reports one.
    let balance = e2e.settled_balance(user, |b| b.held.get() == 0).await;
    assert!(balance.available.get() <= GRANT);
    e2e.stop().await;
}

#[tokio::test]
async fn a_user_without_credits_is_refused_with_1008_and_nothing_is_charged() {
    let e2e = E2e::start().await;
    let (user, token) = e2e.user(0).await;
    match e2e.connect(&token, json!({})).await {
        Err(ConnectError::ClosedBeforeMetadata(end)) => {
            assert_eq!(end.code, Some(CloseCode::PolicyViolation));
            assert!(
                end.reason.contains("credit"),
                "the reason says why: {}",
                end.reason
            );
        }
        Err(other) => panic!("expected a 1008 close, got {other:?}"),
        Ok(_) => panic!("a user without credits must not get a conversation"),
    }
    let balance = e2e.balance(user).await;
    assert_eq!((balance.available.get(), balance.held.get()), (0, 0));
    e2e.stop().await;
}

#[tokio::test]
async fn killing_the_session_service_mid_call_fails_the_call_and_releases_the_hold() {
    let e2e = E2e::start_without_session().await;
    let mut config = parlor::stack::session_config(&e2e.config);
    config.instance = "doomed".to_owned();
    let doomed = doomed_session(&e2e, config.clone()).await;
    let (user, token) = e2e.user(GRANT).await;
    let mut call = e2e.connect(&token, TEXT_ONLY()).await.expect("connected");
    let elevenlabs_id = call.conversation_id().to_owned();
    let Some(ServerEvent::AgentResponse(_)) = call.next_event().await else {
        panic!("greeting")
    };
    doomed.shutdown_background();

    // The same instance comes back and closes what it lost.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let restarted = tokio::spawn(session::run(config, async {
        let _ = stopped.await;
    }));
    let end = call.finish().await.expect("the client is told");
    assert_eq!(end.code, Some(CloseCode::InternalError));
    let document = e2e.document_of(&elevenlabs_id, status_is("failed")).await;
    let events = e2e
        .events_until(id_of(&document), ConversationEvent::is_terminal)
        .await;
    assert!(
        events.iter().any(
            |e| matches!(e, ConversationEvent::Failed(f) if f.reason == FailureReason::SessionLost)
        ),
        "{events:#?}"
    );
    e2e.settled_balance(user, |b| b.held.get() == 0).await;
    stop.send(()).expect("running");
    restarted.await.expect("join").expect("clean stop");
    e2e.stop().await;
}
