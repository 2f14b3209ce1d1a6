//! The connection against a scripted server that misbehaves in ways the
//! simulator does not: events before the metadata, `type` last, unknown and
//! malformed events, and a 1002 close.

mod support;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use elevenlabs::messages::ConversationInitiationClientData;
use elevenlabs::{CloseCode, EndKind, ErrorType, ServerEvent};
use serde_json::Value;
use support::*;
use tokio::sync::mpsc;

/// Plays the script and reports every client text frame it read.
async fn script(mut socket: WebSocket, seen: mpsc::UnboundedSender<Value>) {
    let read = async |socket: &mut WebSocket| loop {
        match socket.recv().await {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                let _ = seen.send(value.clone());
                return Some(value);
            }
            Some(Ok(_)) => {}
            _ => return None,
        }
    };
    let _initiation = read(&mut socket).await;
    let frames = [
        r#"{"ping_event":{"event_id":1,"ping_ms":null},"type":"ping"}"#,
        r#"{"conversation_initiation_metadata_event":{"conversation_id":"conv_wire","agent_output_audio_format":"ulaw_8000","user_input_audio_format":"pcm_16000"},"type":"conversation_initiation_metadata"}"#,
        r#"{"type":"keep_alive"}"#,
        r#"{"type":"ping","ping_event":{"ping_ms":3}}"#,
    ];
    for frame in frames {
        if socket.send(Message::Text(frame.into())).await.is_err() {
            return;
        }
    }
    // Wait for the pong to the early ping before failing the call.
    while let Some(value) = read(&mut socket).await {
        if value["type"] == "pong" {
            break;
        }
    }
    let error = r#"{"type":"error","error_event":{"code":1002,"error_type":"llm_timeout","message":"LLM took too long"}}"#;
    let _ = socket.send(Message::Text(error.into())).await;
    let frame = CloseFrame {
        code: 1002,
        reason: "llm_timeout".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    while let Some(Ok(_)) = socket.recv().await {}
}

#[tokio::test]
async fn tolerant_connection_against_a_scripted_server() {
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/v1/convai/conversation",
        axum::routing::get(move |ws: WebSocketUpgrade| {
            let seen_tx = seen_tx.clone();
            async move { ws.on_upgrade(move |socket| script(socket, seen_tx)) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let endpoints = elevenlabs::Endpoints::from_http_base(&format!("http://{addr}")).unwrap();

    let mut conversation = connect(
        &endpoints,
        "agent_wire",
        ConversationInitiationClientData::default(),
    )
    .await;
    assert_eq!(conversation.conversation_id(), "conv_wire");
    assert_eq!(
        conversation.metadata().agent_output_audio_format.encoding(),
        Some("ulaw")
    );
    let events = drain(&mut conversation).await;
    assert!(matches!(events[0], ServerEvent::Ping(ref ping) if ping.event_id == 1));
    assert!(matches!(events[1], ServerEvent::Other(ref raw) if raw["type"] == "keep_alive"));
    // A ping without its event_id cannot be answered; it is kept, not fatal.
    assert!(matches!(events[2], ServerEvent::Other(ref raw) if raw["type"] == "ping"));
    assert!(matches!(events[3], ServerEvent::Error(_)));

    let end = conversation.finish().await.unwrap();
    assert_eq!(end.code, Some(CloseCode::OperationalFailure));
    assert_eq!(end.kind(), EndKind::Failed(ErrorType::LlmTimeout));

    let initiation = seen.recv().await.unwrap();
    assert_eq!(initiation["type"], "conversation_initiation_client_data");
    let pong = seen.recv().await.unwrap();
    assert_eq!(pong, serde_json::json!({"type":"pong","event_id":1}));
}
