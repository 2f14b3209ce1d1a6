//! A call's bounds at the edge: each way a client can break them gets its
//! documented `error` event and close, and the session hears the same close.
//! A session that stops sending heartbeats is taken for gone.

mod support;

use std::time::Duration;

use futures::SinkExt;
use serde_json::Value;
use support::{
    Inbound, TestGateway, Ws, accepting_session, closed_with, next_text, open_call, send,
};
use tokio_tungstenite::tungstenite::Message;

const AGENT: &str = "agent_bounds";

/// The `error` event the client gets before the close: its `error_type`.
async fn error_type(ws: &mut Ws) -> String {
    let event: Value = serde_json::from_str(&next_text(ws).await).expect("json");
    assert_eq!(event["type"], "error", "{event}");
    event["error_event"]["error_type"]
        .as_str()
        .expect("error_type")
        .to_owned()
}

#[tokio::test]
async fn each_bad_frame_gets_its_error_and_close_on_both_sides() {
    let gateway = TestGateway::start_with(|c| c.bounds.max_frame_bytes = 4096).await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let big = format!(r#"{{"type":"user_message","text":"{}"}}"#, "x".repeat(8192));
    let cases: [(&str, &str, u16); 4] = [
        (&big, "message_too_big", 1009),
        ("this is not json", "invalid_message", 1008),
        (r#"{"type":"shout","text":"hi"}"#, "invalid_message", 1008),
        (r#"{"text":"no type"}"#, "invalid_message", 1008),
    ];
    for (frame, expected_type, code) in cases {
        let (mut ws, mut session) = open_call(&gateway, &mut sessions, AGENT).await;
        send(&mut ws, frame).await;
        assert_eq!(error_type(&mut ws).await, expected_type);
        let (closed, reason) = closed_with(&mut ws).await;
        assert_eq!(closed, code, "{reason}");
        assert!(reason.starts_with(expected_type), "{reason}");
        assert_eq!(session.next().await, Inbound::Close(code, reason));
    }
}

#[tokio::test]
async fn a_frame_over_the_socket_limit_is_1009_without_buffering_it() {
    let gateway = TestGateway::start_with(|c| c.bounds.max_frame_bytes = 4096).await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, mut session) = open_call(&gateway, &mut sessions, AGENT).await;
    // Bigger than NATS' 1 MB payload: it must never reach the bus.
    let huge = format!(
        r#"{{"type":"user_message","text":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    // The server may close before the client finishes writing.
    let _ = ws.send(Message::text(huge)).await;
    match session.next().await {
        Inbound::Close(code, reason) => {
            assert_eq!(code, 1009, "{reason}");
            assert!(reason.starts_with("message_too_big"), "{reason}");
        }
        other => panic!("expected the close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_flood_is_cut_with_an_error_event_and_1008() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, mut session) = open_call(&gateway, &mut sessions, AGENT).await;
    for i in 0..10_000 {
        let frame = format!(r#"{{"type":"user_message","text":"flood {i}"}}"#);
        if ws.send(Message::text(frame)).await.is_err() {
            break;
        }
    }
    assert_eq!(error_type(&mut ws).await, "rate_limit_exceeded");
    let (code, reason) = closed_with(&mut ws).await;
    assert_eq!(code, 1008, "{reason}");
    let mut relayed = 0;
    loop {
        match session.next().await {
            Inbound::Text(_) => relayed += 1,
            Inbound::Close(code, _) => {
                assert_eq!(code, 1008);
                break;
            }
        }
    }
    // The burst passed, and at most what the rate refilled meanwhile.
    assert!((20..=30).contains(&relayed), "{relayed} frames relayed");
}

#[tokio::test]
async fn a_silent_session_closes_the_client_with_1011_and_is_told() {
    let gateway =
        TestGateway::start_with(|c| c.heartbeat_timeout = Duration::from_millis(1500)).await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let (mut ws, mut session) = open_call(&gateway, &mut sessions, AGENT).await;
    session.go_silent();
    assert_eq!(
        closed_with(&mut ws).await,
        (1011, "session lost".to_owned())
    );
    assert_eq!(
        session.next().await,
        Inbound::Close(1006, "session heartbeats stopped".into())
    );
}
