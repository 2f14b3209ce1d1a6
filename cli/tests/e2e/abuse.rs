//! The live path tried as a hostile client would, through the whole stack:
//! each bad frame, a dropped connection and a flood get their documented
//! close, end the conversation in the log, release the hold and leave no
//! upstream open; a polite call beside the flood still gets every answer.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use events::ConversationEvent;
use events::conversation::{EndReason, FailureReason};

use super::harness::{DEADLINE, E2e};
use super::shape::id_of;

const GRANT: i64 = 10_000;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw client in a started text conversation: its ElevenLabs id.
async fn raw_call(e2e: &E2e, token: &str) -> (Ws, String) {
    let mut request = e2e.ws_url().into_client_request().expect("url");
    request
        .headers_mut()
        .insert("xi-api-key", HeaderValue::from_str(token).expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connected");
    let init = json!({"type": "conversation_initiation_client_data",
        "conversation_config_override": {"conversation": {"text_only": true}}});
    ws.send(Message::text(init.to_string()))
        .await
        .expect("init");
    let metadata = until_type(&mut ws, "conversation_initiation_metadata").await;
    let id = metadata["conversation_initiation_metadata_event"]["conversation_id"]
        .as_str()
        .expect("conversation id")
        .to_owned();
    (ws, id)
}

/// Reads until a frame of `kind`.
async fn until_type(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(text.as_str()).expect("json");
            if frame["type"] == kind {
                return frame;
            }
        }
    }
}

/// Reads until the close: its code and reason, and the last `error` event's
/// type; `None` if the connection was reset first.
async fn closed(ws: &mut Ws) -> Option<(u16, String, Option<String>)> {
    let mut error_type = None;
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a close in time");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                return Some((
                    u16::from(frame.code),
                    frame.reason.as_str().to_owned(),
                    error_type,
                ));
            }
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                if frame["type"] == "error" {
                    error_type = frame["error_event"]["error_type"]
                        .as_str()
                        .map(str::to_owned);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(
                tokio_tungstenite::tungstenite::Error::Protocol(_)
                | tokio_tungstenite::tungstenite::Error::Io(_),
            )) => return None,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// The call's terminal event, once the log holds it.
async fn terminal_of(e2e: &E2e, elevenlabs_id: &str) -> (ConversationEvent, usize) {
    let document = e2e.document_of(elevenlabs_id, |_| true).await;
    let events = e2e
        .events_until(id_of(&document), ConversationEvent::is_terminal)
        .await;
    let terminal = events
        .iter()
        .find(|e| e.is_terminal())
        .cloned()
        .expect("terminal");
    (terminal, events.len())
}

#[tokio::test]
async fn bad_frames_and_a_dropped_connection_each_end_the_call_everywhere() {
    let e2e = E2e::start().await;
    let oversized = json!({"type": "user_message", "text": "x".repeat(8 << 20)}).to_string();
    let cases: Vec<(&str, Message, Option<u16>, FailureReason)> = vec![
        (
            "oversized",
            Message::text(oversized),
            Some(1009),
            FailureReason::LimitExceeded,
        ),
        (
            "binary",
            Message::binary(vec![0u8; 16]),
            Some(1003),
            FailureReason::ProtocolError,
        ),
        (
            "invalid JSON",
            Message::text("{not json"),
            Some(1008),
            FailureReason::ProtocolError,
        ),
        (
            "unknown type",
            Message::text(r#"{"type":"shout","text":"hi"}"#),
            Some(1008),
            FailureReason::ProtocolError,
        ),
    ];
    for (case, frame, code, reason) in cases {
        let (user, token) = e2e.user(GRANT).await;
        let (mut ws, elevenlabs_id) = raw_call(&e2e, &token).await;
        // The server may close before an oversized frame is fully written.
        let _ = ws.send(frame).await;
        match closed(&mut ws).await {
            Some((closed_code, close_reason, error_type)) => {
                assert_eq!(Some(closed_code), code, "{case}: {close_reason}");
                assert!(error_type.is_some(), "{case}: an error event comes first");
            }
            // The gateway stops reading at its limit, so the client still
            // writing a huge frame may see its connection reset before the close.
            None => assert_eq!(case, "oversized", "only an oversized frame may reset"),
        }
        let (terminal, _) = terminal_of(&e2e, &elevenlabs_id).await;
        assert!(
            matches!(&terminal, ConversationEvent::Failed(f) if f.reason == reason),
            "{case}: {terminal:?}"
        );
        e2e.settled_balance(user, |b| b.held.get() == 0).await;
        e2e.no_open_upstream(&elevenlabs_id).await;
    }

    let (user, token) = e2e.user(GRANT).await;
    let (ws, elevenlabs_id) = raw_call(&e2e, &token).await;
    // No close frame: the TCP connection just goes.
    drop(ws);
    let (terminal, _) = terminal_of(&e2e, &elevenlabs_id).await;
    assert!(
        matches!(&terminal, ConversationEvent::Ended(e) if e.reason == EndReason::ClientDisconnected),
        "{terminal:?}"
    );
    e2e.settled_balance(user, |b| b.held.get() == 0).await;
    e2e.no_open_upstream(&elevenlabs_id).await;
    e2e.stop().await;
}

#[tokio::test]
async fn a_flood_is_cut_at_its_bound_while_a_polite_call_gets_every_answer() {
    let e2e = E2e::start().await;
    let (flooder, flood_token) = e2e.user(GRANT).await;
    let (_, polite_token) = e2e.user(GRANT).await;
    let (mut flood, flood_id) = raw_call(&e2e, &flood_token).await;
    let (mut polite, _) = raw_call(&e2e, &polite_token).await;
    until_type(&mut polite, "agent_response").await; // the greeting

    let polite_turns = tokio::spawn(async move {
        for i in 0..5 {
            let message = json!({"type": "user_message", "text": format!("polite {i}")});
            polite
                .send(Message::text(message.to_string()))
                .await
                .expect("send");
            loop {
                let answer = until_type(&mut polite, "agent_response").await;
                if answer["agent_response_event"]["agent_response"]
                    == format!("You said: polite {i}")
                {
                    break;
                }
            }
        }
    });
    for i in 0..10_000 {
        let message = json!({"type": "user_message", "text": format!("flood {i}")});
        if flood
            .send(Message::text(message.to_string()))
            .await
            .is_err()
        {
            break;
        }
    }
    let (code, reason, error_type) = closed(&mut flood).await.expect("a close frame");
    assert_eq!(code, 1008, "{reason}");
    assert_eq!(error_type.as_deref(), Some("rate_limit_exceeded"));
    let (terminal, events) = terminal_of(&e2e, &flood_id).await;
    assert!(
        matches!(&terminal, ConversationEvent::Failed(f) if f.reason == FailureReason::LimitExceeded),
        "{terminal:?}"
    );
    // At most the burst of user messages got through, each answered once.
    assert!(
        events <= 60,
        "{events} events for a flood cut after its burst"
    );
    e2e.settled_balance(flooder, |b| b.held.get() == 0).await;
    e2e.no_open_upstream(&flood_id).await;
    tokio::time::timeout(DEADLINE, polite_turns)
        .await
        .expect("the polite call got every answer in time")
        .expect("polite call");
    e2e.stop().await;
}
