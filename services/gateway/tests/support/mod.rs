//! What the gateway's integration tests share: a gateway on a free port
//! against a real nats-server, a stand-in session service speaking the
//! documented contract (`cmd.session.start`, `live.<id>.in/.out`) over that
//! server, and WebSocket clients.

#![allow(dead_code)]

use std::time::Duration;

use async_nats::{Client, Subscriber};
use bus::live::HEARTBEAT_INTERVAL;
use bus::{LiveMessage, LiveSender};
use events::command::live::CLOSE_CODE_HEADER;
use events::command::{Refusal, Reply, SessionStarted, StartSession, subject};
use events::{ConversationId, UserId};
use futures::{SinkExt, StreamExt};
use gateway::{Application, Config, JwtSecret, Role, issue_token};
use testkit::NatsServer;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Request};
use tokio_tungstenite::tungstenite::{Message, protocol::CloseFrame};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Anything a test waits for arrives well within this, or the test fails.
pub const DEADLINE: Duration = Duration::from_secs(15);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const INITIATION: &str = r#"{"type":"conversation_initiation_client_data","conversation_config_override":{},"dynamic_variables":{"user_name":"A"}}"#;

/// A nats-server and a gateway on free ports, stopped on drop.
pub struct TestGateway {
    pub nats: NatsServer,
    pub addr: std::net::SocketAddr,
    pub secret: JwtSecret,
    stop: Option<oneshot::Sender<()>>,
}

impl TestGateway {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let nats = NatsServer::start().expect("nats-server");
        let secret = JwtSecret::random();
        let (addr, stop) = spawn_gateway(&nats.url(), &secret, adjust).await;
        Self {
            nats,
            addr,
            secret,
            stop: Some(stop),
        }
    }

    /// Another copy of the gateway on the same nats-server and secret, as
    /// behind a load balancer.
    pub async fn another_copy(&self, adjust: impl FnOnce(&mut Config)) -> GatewayCopy {
        let (addr, stop) = spawn_gateway(&self.nats.url(), &self.secret, adjust).await;
        GatewayCopy { addr, _stop: stop }
    }

    pub fn token(&self, user: UserId) -> String {
        issue_token(&self.secret, user, Role::User, Duration::from_secs(300))
    }

    pub fn ws_url(&self, agent: &str) -> String {
        format!("ws://{}/v1/convai/conversation?agent_id={agent}", self.addr)
    }

    pub fn http_url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// Stops the gateway now (open calls close with 1001).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A second gateway copy, stopped on drop.
pub struct GatewayCopy {
    pub addr: std::net::SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl GatewayCopy {
    pub fn ws_url(&self, agent: &str) -> String {
        format!("ws://{}/v1/convai/conversation?agent_id={agent}", self.addr)
    }
}

async fn spawn_gateway(
    nats_url: &str,
    secret: &JwtSecret,
    adjust: impl FnOnce(&mut Config),
) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    let mut config = Config::new(
        "127.0.0.1:0".parse().expect("addr"),
        nats_url,
        secret.clone(),
    );
    adjust(&mut config);
    let app = Application::build(config).await.expect("gateway builds");
    let addr = app.addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One conversation as the stand-in session service sees it.
pub struct SessionSide {
    pub nats: Client,
    pub request: StartSession,
    pub started: SessionStarted,
    inbound: Subscriber,
    /// Heartbeats on `live.<id>.out` while the side lives, as a session does.
    heartbeats: tokio::task::JoinHandle<()>,
}

impl Drop for SessionSide {
    fn drop(&mut self) {
        self.heartbeats.abort();
    }
}

/// A frame the gateway published on `live.<id>.in`.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    Text(String),
    Close(u16, String),
}

impl SessionSide {
    /// The next frame or close; the gateway's heartbeats are skipped.
    pub async fn next(&mut self) -> Inbound {
        loop {
            let message = tokio::time::timeout(DEADLINE, self.inbound.next())
                .await
                .expect("a frame on the live subject in time")
                .expect("subscription open");
            match LiveMessage::from_message(&message) {
                LiveMessage::Heartbeat => {}
                LiveMessage::Close(close) => return Inbound::Close(close.code, close.reason),
                LiveMessage::Frame(body) => {
                    return Inbound::Text(String::from_utf8(body.to_vec()).expect("utf-8"));
                }
            }
        }
    }

    /// Stops this side's heartbeats, as a session copy that died would.
    pub fn go_silent(&self) {
        self.heartbeats.abort();
    }

    pub async fn send(&self, text: &str) {
        self.nats
            .publish(self.started.subject_out.clone(), text.to_owned().into())
            .await
            .expect("publish");
    }

    pub async fn close(&self, code: u16, reason: &str) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(CLOSE_CODE_HEADER, code.to_string().as_str());
        self.nats
            .publish_with_headers(
                self.started.subject_out.clone(),
                headers,
                reason.to_owned().into(),
            )
            .await
            .expect("publish close");
    }
}

/// Returns once the server has processed everything `nats` sent before
/// (it handles one connection's messages in order, and `flush` only
/// empties the client's buffer).
async fn settle(nats: &Client) {
    let probe = nats.new_inbox();
    let mut echo = nats.subscribe(probe.clone()).await.expect("sub probe");
    nats.publish(probe, "".into()).await.expect("publish probe");
    tokio::time::timeout(DEADLINE, echo.next())
        .await
        .expect("probe echoed in time")
        .expect("probe");
}

/// Answers `cmd.session.start` by opening a conversation; each one is
/// handed to the test.
pub async fn accepting_session(nats_url: &str) -> mpsc::Receiver<SessionSide> {
    let (tx, rx) = mpsc::channel(16);
    let nats = async_nats::connect(nats_url).await.expect("connect");
    let mut requests = nats.subscribe(subject::SESSION_START).await.expect("sub");
    settle(&nats).await;
    tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let request: StartSession =
                serde_json::from_slice(&message.payload).expect("a StartSession");
            let id = ConversationId::new();
            let started = SessionStarted {
                conversation_id: id,
                subject_in: subject::live_in(id),
                subject_out: subject::live_out(id),
            };
            // Listening before replying: the gateway may publish right away.
            let inbound = nats
                .subscribe(started.subject_in.clone())
                .await
                .expect("sub in");
            let reply = serde_json::to_vec(&Reply::Done(started.clone())).expect("json");
            let to = message.reply.expect("a request");
            nats.publish(to, reply.into()).await.expect("reply");
            let beating = LiveSender::new(nats.clone(), started.subject_out.clone());
            let heartbeats = tokio::spawn(async move {
                let mut every = tokio::time::interval(HEARTBEAT_INTERVAL);
                loop {
                    every.tick().await;
                    let _ = beating.heartbeat().await;
                }
            });
            let side = SessionSide {
                nats: nats.clone(),
                request,
                started,
                inbound,
                heartbeats,
            };
            if tx.send(side).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Refuses every `cmd.session.start` with `refusal`.
pub async fn refusing_session(nats_url: &str, refusal: Refusal) {
    let nats = async_nats::connect(nats_url).await.expect("connect");
    let mut requests = nats.subscribe(subject::SESSION_START).await.expect("sub");
    settle(&nats).await;
    tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let reply: Reply<SessionStarted> = Err(refusal.clone()).into();
            let body = serde_json::to_vec(&reply).expect("json");
            if let Some(to) = message.reply {
                nats.publish(to, body.into()).await.expect("reply");
            }
        }
    });
}

/// Listens on `cmd.session.start` and never answers (keep the subscriber).
pub async fn silent_session(nats_url: &str) -> (Client, Subscriber) {
    let nats = async_nats::connect(nats_url).await.expect("connect");
    let requests = nats.subscribe(subject::SESSION_START).await.expect("sub");
    settle(&nats).await;
    (nats, requests)
}

/// A client in a started conversation whose relay is known to be listening
/// (its initiation frame has reached the session side).
pub async fn open_call(
    gateway: &TestGateway,
    sessions: &mut mpsc::Receiver<SessionSide>,
    agent: &str,
) -> (Ws, SessionSide) {
    let token = gateway.token(UserId::new());
    let (mut ws, _) = connect(request(&gateway.ws_url(agent), &[("xi-api-key", &token)])).await;
    send(&mut ws, INITIATION).await;
    let mut session = next_session(sessions).await;
    assert_eq!(session.next().await, Inbound::Text(INITIATION.into()));
    (ws, session)
}

pub async fn next_session(sessions: &mut mpsc::Receiver<SessionSide>) -> SessionSide {
    tokio::time::timeout(DEADLINE, sessions.recv())
        .await
        .expect("a session start in time")
        .expect("session peer running")
}

/// A client request for `url` with extra headers.
pub fn request(url: &str, headers: &[(&'static str, &str)]) -> Request<()> {
    let mut request = url.into_client_request().expect("ws url");
    for (name, value) in headers {
        request
            .headers_mut()
            .append(*name, HeaderValue::from_str(value).expect("header value"));
    }
    request
}

pub async fn connect(request: Request<()>) -> (Ws, Option<String>) {
    let (ws, response) = tokio::time::timeout(DEADLINE, tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
        .expect("handshake");
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (ws, protocol)
}

pub async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// The next text frame (pings are skipped).
pub async fn next_text(ws: &mut Ws) -> String {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("frame");
        match message {
            Message::Text(text) => return text.as_str().to_owned(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server's close frame; its code and reason.
pub async fn closed_with(ws: &mut Ws) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a close in time");
        match message {
            Some(Ok(Message::Close(Some(CloseFrame { code, reason })))) => {
                return (u16::from(code), reason.as_str().to_owned());
            }
            Some(Ok(Message::Close(None))) => return (1005, String::new()),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
