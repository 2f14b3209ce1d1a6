//! A started conversation: frames pass both ways in order, and each way a
//! call can end reaches the other side with its code and reason.

mod support;

use std::collections::HashMap;

use events::UserId;
use events::command::{Refusal, RefusalCode};
use futures::SinkExt;
use support::{
    INITIATION, Inbound, SessionSide, TestGateway, Ws, accepting_session, closed_with, connect,
    next_session, next_text, refusing_session, request, send, silent_session,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const AGENT: &str = "agent_relay";

async fn open_call(
    gateway: &TestGateway,
    sessions: &mut mpsc::Receiver<SessionSide>,
) -> (Ws, SessionSide) {
    support::open_call(gateway, sessions, AGENT).await
}

#[tokio::test]
async fn frames_pass_both_ways_in_order() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, mut session) = open_call(&gateway, &mut sessions).await;
    for i in 0..50 {
        send(&mut ws, &format!(r#"{{"user_audio_chunk":"{i}"}}"#)).await;
    }
    for i in 0..50 {
        session
            .send(&format!(
                r#"{{"type":"ping","ping_event":{{"event_id":{i}}}}}"#
            ))
            .await;
    }
    for i in 0..50 {
        assert_eq!(
            session.next().await,
            Inbound::Text(format!(r#"{{"user_audio_chunk":"{i}"}}"#))
        );
        assert_eq!(
            next_text(&mut ws).await,
            format!(r#"{{"type":"ping","ping_event":{{"event_id":{i}}}}}"#)
        );
    }
}

#[tokio::test]
async fn the_initiation_goes_on_the_live_subject_not_in_the_start_command() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let token = gateway.token(UserId::new());
    let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    send(&mut ws, INITIATION).await;
    let mut session = next_session(&mut sessions).await;
    assert_eq!(session.request.initiation, None);
    assert_eq!(session.next().await, Inbound::Text(INITIATION.into()));
}

#[tokio::test]
async fn a_client_close_reaches_the_session_with_its_code() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, mut session) = open_call(&gateway, &mut sessions).await;
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "User ended conversation".into(),
    }))
    .await
    .expect("close");
    assert_eq!(
        session.next().await,
        Inbound::Close(1000, "User ended conversation".into())
    );
}

#[tokio::test]
async fn a_client_that_drops_is_reported_as_1006() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (ws, mut session) = open_call(&gateway, &mut sessions).await;
    drop(ws);
    assert_eq!(
        session.next().await,
        Inbound::Close(1006, "client connection lost".into())
    );
}

#[tokio::test]
async fn a_session_close_reaches_the_client_with_its_code_and_reason() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    for (code, reason) in [
        (1000, "end_call"),
        (1002, "llm_timeout"),
        (1011, "unknown_websocket_crash"),
    ] {
        let (mut ws, session) = open_call(&gateway, &mut sessions).await;
        session.send(r#"{"type":"agent_response"}"#).await;
        session.close(code, reason).await;
        assert_eq!(next_text(&mut ws).await, r#"{"type":"agent_response"}"#);
        assert_eq!(closed_with(&mut ws).await, (code, reason.to_owned()));
    }
}

#[tokio::test]
async fn binary_frames_close_both_sides_with_1003() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, mut session) = open_call(&gateway, &mut sessions).await;
    ws.send(Message::binary(vec![1, 2, 3])).await.expect("send");
    let reason =
        "invalid_message: binary frames are not part of the protocol; send JSON text frames";
    assert_eq!(closed_with(&mut ws).await, (1003, reason.to_owned()));
    assert_eq!(session.next().await, Inbound::Close(1003, reason.into()));
}

#[tokio::test]
async fn a_refusal_closes_with_1008_and_the_sessions_message() {
    let gateway = TestGateway::start().await;
    let message = "insufficient credits: balance 0 < 400";
    refusing_session(
        &gateway.nats.url(),
        Refusal::new(RefusalCode::InsufficientCredits, message),
    )
    .await;
    let token = gateway.token(UserId::new());
    let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    send(&mut ws, INITIATION).await;
    assert_eq!(closed_with(&mut ws).await, (1008, message.to_owned()));
}

#[tokio::test]
async fn without_a_session_service_the_call_closes_with_1011() {
    let gateway = TestGateway::start_with(|config| {
        config.session_start_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    let token = gateway.token(UserId::new());
    let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    send(&mut ws, INITIATION).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1011, "session service unavailable".into())
    );
}

#[tokio::test]
async fn a_session_service_that_starts_late_still_gets_the_call() {
    let gateway = TestGateway::start().await;
    let token = gateway.token(UserId::new());
    let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    send(&mut ws, INITIATION).await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let mut session = next_session(&mut sessions).await;
    assert_eq!(session.next().await, Inbound::Text(INITIATION.into()));
}

#[tokio::test]
async fn a_user_over_the_live_call_limit_is_busy() {
    let gateway = TestGateway::start_with(|config| config.live_calls_per_user = 1).await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let user = UserId::new();
    let token = gateway.token(user);
    let (mut first, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    send(&mut first, INITIATION).await;
    let _session = next_session(&mut sessions).await;
    let (mut second, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    let (code, reason) = closed_with(&mut second).await;
    assert_eq!(code, 1008);
    assert!(reason.starts_with("busy"), "{reason}");
    let other = gateway.token(UserId::new());
    let (mut third, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &other)])).await;
    send(&mut third, INITIATION).await;
    next_session(&mut sessions).await;
}

#[tokio::test]
async fn stopping_the_gateway_closes_calls_with_1001() {
    let mut gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, mut session) = open_call(&gateway, &mut sessions).await;
    gateway.stop();
    let reason = "gateway shutting down";
    assert_eq!(closed_with(&mut ws).await, (1001, reason.to_owned()));
    assert_eq!(session.next().await, Inbound::Close(1001, reason.into()));
}

#[tokio::test]
async fn a_session_service_that_never_answers_closes_the_call_with_1011() {
    let gateway = TestGateway::start_with(|config| {
        config.session_start_timeout = std::time::Duration::from_millis(200);
    })
    .await;
    let _silent = silent_session(&gateway.nats.url()).await;
    let token = gateway.token(UserId::new());
    let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    send(&mut ws, INITIATION).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1011, "session service unavailable".into())
    );
}

#[tokio::test]
async fn fifty_calls_at_once_each_get_their_own_frames() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        let user = UserId::new();
        let token = gateway.token(user);
        let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
        send(&mut ws, INITIATION).await;
        clients.push((user, ws));
    }
    let mut by_user = HashMap::new();
    for _ in 0..50 {
        let session = next_session(&mut sessions).await;
        by_user.insert(session.request.user_id, session);
    }
    for (user, ws) in &mut clients {
        send(ws, &format!(r#"{{"type":"user_message","text":"{user}"}}"#)).await;
    }
    for (user, ws) in &mut clients {
        let session = by_user.get_mut(user).expect("a session per user");
        assert_eq!(session.next().await, Inbound::Text(INITIATION.into()));
        assert_eq!(
            session.next().await,
            Inbound::Text(format!(r#"{{"type":"user_message","text":"{user}"}}"#))
        );
        session.send(&format!(r#"{{"echo":"{user}"}}"#)).await;
        assert_eq!(next_text(ws).await, format!(r#"{{"echo":"{user}"}}"#));
    }
}

#[tokio::test]
async fn a_transcript_saved_under_the_calls_elevenlabs_id_lands_on_the_live_call() {
    use events::command::{Record, RecordConversation, RecordOutcome, Recorded, Reply, subject};
    use futures::StreamExt;

    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, session) = open_call(&gateway, &mut sessions).await;
    session
        .send(r#"{"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"conv_relayed_1","agent_output_audio_format":"pcm_16000","user_input_audio_format":"pcm_16000"}}"#)
        .await;
    assert!(next_text(&mut ws).await.contains("conv_relayed_1"));

    // No projector runs here: only the relay's record can name the call.
    let nats = async_nats::connect(gateway.nats.url())
        .await
        .expect("connect");
    let ids = async_nats::jetstream::new(nats.clone())
        .get_key_value(gateway::elevenlabs_ids::BUCKET)
        .await
        .expect("the bucket");
    // The last value first, if already written, then each new one.
    let mut recorded = ids
        .watch_with_history("conv_relayed_1")
        .await
        .expect("watch");
    tokio::time::timeout(support::DEADLINE, recorded.next())
        .await
        .expect("the id was never recorded")
        .expect("the watch ended")
        .expect("a recorded id");
    let mut records = nats.subscribe(subject::SESSION_RECORD).await.expect("sub");
    nats.flush().await.expect("flush");
    let user = UserId::new();
    let saving = tokio::spawn({
        let url = gateway.http_url("/api/transcription");
        let token = gateway.token(user);
        async move {
            let now = chrono::Utc::now();
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({
                    "conversationId": "conv_relayed_1",
                    "agentId": AGENT,
                    "startedAt": (now - chrono::Duration::seconds(60)).to_rfc3339(),
                    "endedAt": now.to_rfc3339(),
                    "messages": [{"role": "user", "message": "Hello", "timeInCallSecs": 1}],
                    "status": "done",
                }))
                .send()
                .await
                .expect("saved")
                .status()
        }
    });
    let asked = tokio::time::timeout(support::DEADLINE, records.next())
        .await
        .expect("a record command in time")
        .expect("subscribed");
    let command: RecordConversation = serde_json::from_slice(&asked.payload).expect("a record");
    assert_eq!(command.conversation_id, session.started.conversation_id);
    assert!(matches!(command.record, Record::Transcript { .. }));
    let reply = Reply::Done(Recorded {
        conversation_id: command.conversation_id,
        user_id: Some(user),
        outcome: RecordOutcome::AlreadyRecorded,
        appended: Vec::new(),
    });
    nats.publish(
        asked.reply.expect("a request"),
        serde_json::to_vec(&reply).expect("json").into(),
    )
    .await
    .expect("answered");
    assert_eq!(saving.await.expect("joined"), reqwest::StatusCode::OK);
}
