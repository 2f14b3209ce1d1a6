//! Shared helpers: a simulator per test, a client pointed at it, audio
//! chunks, and waits with a deadline (never a bare sleep).

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use elevenlabs::messages::ConversationInitiationClientData;
use elevenlabs::{
    ApiKey, ClientMessage, Conversation, ConversationOptions, Endpoints, RestClient, RetryPolicy,
    ServerEvent, Target,
};
use elevenlabs_sim::{SimConfig, SimEvent, Simulator};

/// Upper bound for any single wait in these tests; never asserted on.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub async fn start(config: SimConfig) -> (Simulator, Endpoints) {
    let sim = Simulator::start(config).await.expect("simulator starts");
    let endpoints = Endpoints::from_http_base(&sim.http_base_url()).expect("sim URL");
    (sim, endpoints)
}

pub fn rest(sim: &Simulator, endpoints: &Endpoints) -> RestClient {
    let retry = RetryPolicy {
        initial_backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    RestClient::new(endpoints.clone(), ApiKey::new(sim.api_key()), retry).expect("client")
}

pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

pub async fn connect(
    endpoints: &Endpoints,
    agent_id: &str,
    init: ConversationInitiationClientData,
) -> Conversation {
    let target = Target::Agent {
        agent_id: agent_id.to_owned(),
        api_key: None,
    };
    within(
        "connect",
        Conversation::connect(endpoints, target, init, &ConversationOptions::default()),
    )
    .await
    .expect("conversation opens")
}

/// Reads events until `pick` accepts one; returns it and everything before.
pub async fn until<T>(
    conversation: &mut Conversation,
    what: &str,
    mut pick: impl FnMut(&ServerEvent) -> Option<T>,
) -> (T, Vec<ServerEvent>) {
    within(what, async {
        let mut seen = Vec::new();
        loop {
            let event = conversation
                .next_event()
                .await
                .unwrap_or_else(|| panic!("conversation ended before {what}; saw {seen:?}"));
            if let Some(found) = pick(&event) {
                return (found, seen);
            }
            seen.push(event);
        }
    })
    .await
}

/// Every remaining event until the socket is done.
pub async fn drain(conversation: &mut Conversation) -> Vec<ServerEvent> {
    within("the end of the conversation", async {
        let mut seen = Vec::new();
        while let Some(event) = conversation.next_event().await {
            seen.push(event);
        }
        seen
    })
    .await
}

pub fn agent_text(event: &ServerEvent) -> Option<String> {
    match event {
        ServerEvent::AgentResponse(response) => Some(response.agent_response.clone()),
        _ => None,
    }
}

pub fn user_text(event: &ServerEvent) -> Option<String> {
    match event {
        ServerEvent::UserTranscript(transcript) => Some(transcript.user_transcript.clone()),
        _ => None,
    }
}

/// 250 ms of 16 kHz 16-bit mono: a loud tone, or silence.
pub fn pcm_chunk(voiced: bool) -> ClientMessage {
    let samples = 4000;
    let mut bytes = Vec::with_capacity(samples * 2);
    for n in 0..samples {
        let value = if voiced {
            let phase = n as f64 * 440.0 * std::f64::consts::TAU / 16000.0;
            (phase.sin() * 0.3 * f64::from(i16::MAX)) as i16
        } else {
            0
        };
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    ClientMessage::user_audio(&bytes)
}

/// Waits for a simulator event `pick` accepts.
pub async fn sim_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<SimEvent>,
    what: &str,
    mut pick: impl FnMut(&SimEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(error) => panic!("simulator events closed: {error}"),
            }
        }
    })
    .await
}

/// A local endpoint that receives the simulator's webhooks and verifies
/// each with the client's verifier, passing on the result.
pub struct WebhookSink {
    pub url: String,
    pub received: tokio::sync::mpsc::UnboundedReceiver<
        Result<elevenlabs::WebhookEvent, elevenlabs::WebhookError>,
    >,
}

pub async fn webhook_sink(secret: &str) -> WebhookSink {
    use axum::body::Bytes;
    use axum::http::HeaderMap;

    let (tx, received) = tokio::sync::mpsc::unbounded_channel();
    let secret = elevenlabs::WebhookSecret::new(secret);
    let handler = move |headers: HeaderMap, body: Bytes| {
        let tx = tx.clone();
        let secret = secret.clone();
        async move {
            let header = headers
                .get(elevenlabs::webhook::SIGNATURE_HEADER)
                .and_then(|value| value.to_str().ok());
            let _ = tx.send(elevenlabs::webhook::construct_event(header, &body, &secret));
            "ok"
        }
    };
    let app = axum::Router::new().route("/webhook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    WebhookSink {
        url: format!("http://{addr}/webhook"),
        received,
    }
}
