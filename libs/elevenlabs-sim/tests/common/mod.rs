//! Raw-socket helpers for driving the simulator without the client crate.

#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Generous upper bound for anything a test waits for.
pub const WAIT: Duration = Duration::from_secs(10);

pub async fn connect(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    ws
}

/// Connects and sends the §1.7 initiation message with `overrides`.
pub async fn open(url: &str, overrides: Value) -> Ws {
    let mut ws = connect(url).await;
    send(
        &mut ws,
        json!({
            "type": "conversation_initiation_client_data",
            "conversation_config_override": overrides,
            "custom_llm_extra_body": {},
            "dynamic_variables": {"user_name": "Ada"},
            "user_id": "user-1",
            "source_info": {"source": "python_sdk", "version": "test"},
        }),
    )
    .await;
    ws
}

pub async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .expect("send");
}

/// What the next frame was.
#[derive(Debug)]
pub enum Frame {
    Event(Value),
    Closed(Option<u16>, String),
    /// The TCP stream ended without a close frame.
    Gone,
}

/// Next server event, answering pings with pongs on the way.
pub async fn next(ws: &mut Ws) -> Frame {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("server went quiet");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).expect("server JSON");
                if value["type"] == "ping" {
                    let id = value["ping_event"]["event_id"].clone();
                    send(ws, json!({"type": "pong", "event_id": id})).await;
                    continue;
                }
                return Frame::Event(value);
            }
            Some(Ok(Message::Close(frame))) => {
                return match frame {
                    Some(f) => Frame::Closed(Some(f.code.into()), f.reason.to_string()),
                    None => Frame::Closed(None, String::new()),
                };
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Frame::Gone,
        }
    }
}

/// Events up to and including the first of type `kind`.
pub async fn until(ws: &mut Ws, kind: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        match next(ws).await {
            Frame::Event(v) => {
                let done = v["type"] == kind;
                seen.push(v);
                if done {
                    return seen;
                }
            }
            other => panic!("wanted {kind}, got {other:?} after {seen:?}"),
        }
    }
}

/// Reads past events to the close; returns (events, code, reason).
pub async fn until_close(ws: &mut Ws) -> (Vec<Value>, Option<u16>, String) {
    let mut seen = Vec::new();
    loop {
        match next(ws).await {
            Frame::Event(v) => seen.push(v),
            Frame::Closed(code, reason) => {
                // Completes the closing handshake instead of leaving the server waiting.
                let _ = ws.flush().await;
                return (seen, code, reason);
            }
            Frame::Gone => return (seen, None, "gone".into()),
        }
    }
}

pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// Total decoded audio bytes of the `audio` events.
pub fn audio_bytes(events: &[Value]) -> usize {
    of_type(events, "audio")
        .iter()
        .map(|e| {
            let b64 = e["audio_event"]["audio_base_64"]
                .as_str()
                .expect("audio string");
            STANDARD.decode(b64).expect("base64").len()
        })
        .sum()
}

/// `ms` of 16 kHz PCM: a 300 Hz tone, or silence.
pub fn pcm(ms: u64, loud: bool) -> String {
    let samples = 16 * ms;
    let mut bytes = Vec::with_capacity(samples as usize * 2);
    for n in 0..samples {
        let v = if loud {
            ((n as f64 / 16000.0 * 300.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
        } else {
            0
        };
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    STANDARD.encode(bytes)
}

/// Speaks `voiced_ms` then sends `silence_ms` of silence, in 250 ms chunks.
pub async fn speak(ws: &mut Ws, voiced_ms: u64, silence_ms: u64) {
    for (total, loud) in [(voiced_ms, true), (silence_ms, false)] {
        let mut left = total;
        while left > 0 {
            let ms = left.min(250);
            send(ws, json!({"user_audio_chunk": pcm(ms, loud)})).await;
            left -= ms;
        }
    }
}

pub fn ws_url(sim: &elevenlabs_sim::Simulator, agent_id: &str) -> String {
    format!(
        "{}/v1/convai/conversation?agent_id={agent_id}&source=test&version=1",
        sim.ws_base_url()
    )
}

/// The conversation id from a metadata event.
pub fn conversation_id(metadata: &Value) -> String {
    assert_eq!(metadata["type"], "conversation_initiation_metadata");
    metadata["conversation_initiation_metadata_event"]["conversation_id"]
        .as_str()
        .expect("conversation_id")
        .to_owned()
}

/// A request with `Sec-WebSocket-Protocol: convai`.
pub fn convai_request(url: &str) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "convai".parse().expect("header"));
    request
}

/// One POST the test webhook server received.
#[derive(Debug)]
pub struct Delivery {
    pub signature: Option<String>,
    pub body: axum::body::Bytes,
}

/// A tiny webhook endpoint answering `statuses` in turn (then 200).
pub async fn webhook_server(
    statuses: Vec<u16>,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<Delivery>) {
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderMap, StatusCode};

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let statuses = Arc::new(Mutex::new(statuses.into_iter()));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            let statuses = statuses.clone();
            async move {
                let signature = headers
                    .get("elevenlabs-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let _ = tx.send(Delivery { signature, body });
                let code = statuses.lock().expect("lock").next().unwrap_or(200);
                StatusCode::from_u16(code).expect("status")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

/// Checks `t=…,v0=…` with our own HMAC-SHA256 over `"<t>.<body>"`.
pub fn verify_signature(secret: &str, header: &str, body: &[u8]) -> bool {
    use hmac::{Hmac, Mac};
    let mut t = None;
    let mut v0 = None;
    for part in header.split(',') {
        if let Some(x) = part.strip_prefix("t=") {
            t = Some(x);
        } else if let Some(x) = part.strip_prefix("v0=") {
            v0 = Some(x);
        }
    }
    let (Some(t), Some(v0)) = (t, v0) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let Ok(sig) = hex::decode(v0) else {
        return false;
    };
    mac.verify_slice(&sig).is_ok()
}

/// Waits for the first event `pick` accepts.
pub async fn wait_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<elevenlabs_sim::SimEvent>,
    pick: impl Fn(&elevenlabs_sim::SimEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("event in time")
}

/// A text call on the default agent: greeting, one message, "bye".
/// Returns the conversation id.
pub async fn short_text_call(sim: &elevenlabs_sim::Simulator) -> String {
    let mut ws = open(
        &ws_url(sim, sim.default_agent_id()),
        json!({"conversation": {"text_only": true}}),
    )
    .await;
    let meta = until(&mut ws, "conversation_initiation_metadata").await;
    let id = conversation_id(&meta[0]);
    send(&mut ws, json!({"type": "user_message", "text": "hello"})).await;
    until(&mut ws, "user_transcript").await;
    send(&mut ws, json!({"type": "user_message", "text": "bye"})).await;
    let (_, code, _) = until_close(&mut ws).await;
    assert_eq!(code, Some(1000));
    id
}

/// Whole seconds of `d`, rounded up: how the simulator bills a call.
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
