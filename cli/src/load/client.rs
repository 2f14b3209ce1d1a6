//! One simulated user's call over the ElevenLabs protocol, raw frames on a
//! WebSocket, behaving politely or not.

use std::time::{Duration, Instant};

use elevenlabs::{ApiKey, Endpoints};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Longest wait for an awaited frame before the call counts as stuck.
const FRAME_WAIT: Duration = Duration::from_secs(30);
/// The least time between a polite user's messages: a person types slower
/// than the gateway's per-call rate bound.
const TURN_PACE: Duration = Duration::from_millis(120);
/// What a client socket reads at a time.
const READ_BUFFER_BYTES: usize = 8 * 1024;
/// An oversized frame: larger than NATS' 1 MB payload.
const OVERSIZED_BYTES: usize = 2 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// This many turns, each waiting for its answer, then a normal close.
    Polite(usize),
    /// This many user messages as fast as the socket takes them.
    Flood(usize),
    Oversized,
    /// Gone (TCP dropped, no close frame) right after the call opened.
    Vanish,
    /// Half of this many turns, then gone without a close frame.
    DropMidCall(usize),
}

/// How one call went.
#[derive(Debug)]
pub struct Outcome {
    pub behaviour: Behaviour,
    pub elevenlabs_id: Option<String>,
    /// User message → its agent answer, per turn, in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// The server's close code; `None` when the client left first.
    pub close_code: Option<u16>,
    pub error: Option<String>,
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a text-only call and waits for the agent's greeting; returns the
/// socket and ElevenLabs' conversation id.
pub async fn open(
    endpoints: &Endpoints,
    agent_id: &str,
    api_key: Option<ApiKey>,
) -> anyhow::Result<(Ws, Option<String>)> {
    let url = format!("{}?agent_id={agent_id}", endpoints.conversation_url());
    let mut request = url.into_client_request()?;
    if let Some(key) = api_key {
        request
            .headers_mut()
            .insert("xi-api-key", HeaderValue::from_str(key.expose())?);
    }
    // Nagle off, as the SDKs' sockets are: a turn is one small frame. A
    // small read buffer: tungstenite zeroes it whole on every read.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let init = json!({"type": "conversation_initiation_client_data",
        "conversation_config_override": {"conversation": {"text_only": true}}});
    ws.send(Message::text(init.to_string())).await?;
    let metadata = until(&mut ws, |f| f["type"] == "conversation_initiation_metadata").await?;
    let id = metadata["conversation_initiation_metadata_event"]["conversation_id"]
        .as_str()
        .map(str::to_owned);
    until(&mut ws, |f| f["type"] == "agent_response").await?; // the greeting
    Ok((ws, id))
}

/// Keeps an open call alive (answering pings) until `release` completes,
/// then closes it normally. A quiet call may stay quiet: no frame wait here.
pub async fn hold(
    mut ws: Ws,
    release: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut release = std::pin::pin!(release);
    loop {
        let message = tokio::select! {
            () = &mut release => break,
            message = ws.next() => message,
        };
        match message.ok_or_else(|| anyhow::anyhow!("the connection ended while held"))?? {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(text.as_str())?;
                answer_ping(&mut ws, &frame).await?;
            }
            Message::Close(frame) => anyhow::bail!("closed while held: {frame:?}"),
            _ => {}
        }
    }
    ws.close(None).await?;
    closed(&mut ws).await;
    Ok(())
}

/// Answers `frame` if it is a ping; says whether it was.
async fn answer_ping(ws: &mut Ws, frame: &Value) -> anyhow::Result<bool> {
    if frame["type"] != "ping" {
        return Ok(false);
    }
    let event_id = &frame["ping_event"]["event_id"];
    ws.send(Message::text(
        json!({"type": "pong", "event_id": event_id}).to_string(),
    ))
    .await?;
    Ok(true)
}

pub async fn call(
    endpoints: Endpoints,
    agent_id: String,
    api_key: Option<ApiKey>,
    behaviour: Behaviour,
) -> Outcome {
    let mut outcome = Outcome {
        behaviour,
        elevenlabs_id: None,
        latencies_ms: Vec::new(),
        close_code: None,
        error: None,
    };
    if let Err(error) = drive(&endpoints, &agent_id, api_key, &mut outcome).await {
        outcome.error = Some(error.to_string());
    }
    outcome
}

async fn drive(
    endpoints: &Endpoints,
    agent_id: &str,
    api_key: Option<ApiKey>,
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    let (mut ws, elevenlabs_id) = open(endpoints, agent_id, api_key).await?;
    outcome.elevenlabs_id = elevenlabs_id;
    match outcome.behaviour {
        Behaviour::Polite(turns) => {
            talk(&mut ws, turns, outcome).await?;
            ws.close(None).await?;
            outcome.close_code = closed(&mut ws).await;
        }
        Behaviour::DropMidCall(turns) => talk(&mut ws, turns / 2, outcome).await?,
        Behaviour::Vanish => {}
        Behaviour::Flood(messages) => {
            for i in 0..messages {
                let message = json!({"type": "user_message", "text": format!("flood {i}")});
                if ws.send(Message::text(message.to_string())).await.is_err() {
                    break;
                }
            }
            outcome.close_code = closed(&mut ws).await;
        }
        Behaviour::Oversized => {
            let big = json!({"type": "user_message", "text": "x".repeat(OVERSIZED_BYTES)});
            // The server may close before the frame is fully written.
            let _ = ws.send(Message::text(big.to_string())).await;
            outcome.close_code = closed(&mut ws).await;
        }
    }
    // Dropping the socket without a close frame: the TCP connection just goes.
    drop(ws);
    Ok(())
}

async fn talk(ws: &mut Ws, turns: usize, outcome: &mut Outcome) -> anyhow::Result<()> {
    let mut pace = tokio::time::interval(TURN_PACE);
    for turn in 0..turns {
        pace.tick().await;
        let text = format!("turn {turn}");
        let expected = format!("You said: {text}");
        let sent = Instant::now();
        ws.send(Message::text(
            json!({"type": "user_message", "text": text}).to_string(),
        ))
        .await?;
        until(ws, |f| {
            f["agent_response_event"]["agent_response"] == expected.as_str()
        })
        .await?;
        outcome
            .latencies_ms
            .push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}

/// Reads until a frame `wanted` accepts, answering pings as a client must,
/// for [`FRAME_WAIT`] at most (pings and other frames do not extend it).
async fn until(ws: &mut Ws, wanted: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + FRAME_WAIT;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow::anyhow!("the awaited frame did not come within {FRAME_WAIT:?}"))?
            .ok_or_else(|| anyhow::anyhow!("the connection ended"))??;
        let Message::Text(text) = message else {
            if let Message::Close(frame) = message {
                anyhow::bail!("closed early: {frame:?}");
            }
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str())?;
        if !answer_ping(ws, &frame).await? && wanted(&frame) {
            return Ok(frame);
        }
    }
}

/// The server's close code, if a close frame arrives within [`FRAME_WAIT`]
/// before the connection goes (frames still arriving do not extend it).
async fn closed(ws: &mut Ws) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + FRAME_WAIT;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Some(frame.map_or(1005, |f| u16::from(f.code)));
            }
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}
