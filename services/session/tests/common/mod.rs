//! A session service between a real nats-server and the ElevenLabs
//! simulator, with test peers standing for the gateway (live subjects) and
//! the ledger (hold replies) over the documented contracts.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use bus::live::HEARTBEAT_INTERVAL;
use bus::{LiveMessage, LiveSender};
use elevenlabs_sim::{SimConfig, Simulator};
use events::command::live::CLOSE_CODE_HEADER;
use events::command::{
    HoldPlaced, Refusal, RefusalCode, Reply, SessionStarted, StartSession, subject,
};
use events::{ConversationEvent, ConversationId, CorrelationId, Credits, UserId};
use eventstore::EventStore;
use futures::StreamExt;
use serde_json::{Value, json};
use testkit::NatsServer;
use tokio::sync::oneshot;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Stack {
    pub nats: NatsServer,
    pub sim: Simulator,
    pub client: async_nats::Client,
    pub store: EventStore,
    stop_session: Option<oneshot::Sender<()>>,
    session: Option<tokio::task::JoinHandle<Result<(), session::Error>>>,
}

/// The one user without credits: the ledger peer refuses them.
pub fn broke_user() -> UserId {
    "65a1b2c3d4e5f60718293a40".parse().expect("user id")
}

pub fn rich_user() -> UserId {
    UserId::new()
}

impl Stack {
    /// NATS, the simulator and the ledger peer; no session service yet.
    pub async fn bare() -> Self {
        let nats = NatsServer::start().expect("nats-server");
        let sim = Simulator::start(SimConfig::fast())
            .await
            .expect("simulator");
        let client = async_nats::connect(nats.url()).await.expect("nats");
        let store = EventStore::new(client.clone());
        store.ensure_streams().await.expect("streams");
        spawn_ledger_peer(client.clone()).await;
        Self {
            nats,
            sim,
            client,
            store,
            stop_session: None,
            session: None,
        }
    }

    /// With an in-process session service named `session-1`.
    pub async fn start() -> Self {
        let mut stack = Self::bare().await;
        stack.start_session(stack.session_config()).await;
        stack
    }

    pub fn session_config(&self) -> session::Config {
        let endpoints =
            elevenlabs::Endpoints::from_http_base(&self.sim.http_base_url()).expect("sim url");
        let mut config = session::Config::new(
            self.nats.url(),
            endpoints,
            elevenlabs::ApiKey::new(self.sim.api_key()),
        );
        config.cost_poll = Duration::from_millis(20);
        config.initiation_wait = Duration::from_millis(300);
        config
    }

    pub async fn start_session(&mut self, config: session::Config) {
        let (stop, stopped) = oneshot::channel::<()>();
        self.session = Some(tokio::spawn(session::run(config, async {
            let _ = stopped.await;
        })));
        self.stop_session = Some(stop);
        self.wait_until_answering().await;
    }

    /// Ready once a session service answers: a malformed start is refused, not ignored.
    pub async fn wait_until_answering(&self) {
        let reply =
            testkit::request::until_answered(&self.client, subject::SESSION_START, b"{}", DEADLINE)
                .await
                .expect("the session service never answered");
        let body: Value = serde_json::from_slice(&reply.payload).expect("json");
        assert_eq!(body["error"]["code"], "invalid_request");
    }

    pub async fn stop_session(&mut self) {
        if let Some(stop) = self.stop_session.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.session.take() {
            task.await.expect("join").expect("clean stop");
        }
    }

    pub async fn start_call(&self, user: UserId) -> Result<Call, Refusal> {
        let command = StartSession {
            user_id: user,
            agent_id: self.sim.default_agent_id().parse().expect("agent id"),
            correlation_id: CorrelationId::new(),
            initiation: None,
        };
        let reply = self
            .client
            .request(
                subject::SESSION_START,
                serde_json::to_vec(&command).expect("json").into(),
            )
            .await
            .expect("reply");
        let started = serde_json::from_slice::<Reply<SessionStarted>>(&reply.payload)
            .expect("reply")
            .into_result()?;
        let out = self
            .client
            .subscribe(started.subject_out.clone())
            .await
            .expect("subscribe");
        // Heartbeats on `live.<id>.in`, as the gateway holding the client sends them.
        let beating = LiveSender::new(self.client.clone(), started.subject_in.clone());
        let heartbeats = tokio::spawn(async move {
            let mut every = tokio::time::interval(HEARTBEAT_INTERVAL);
            loop {
                every.tick().await;
                let _ = beating.heartbeat().await;
            }
        });
        Ok(Call {
            client: self.client.clone(),
            started,
            out,
            heartbeats,
        })
    }

    /// Waits until the conversation's log holds an event matching `done`.
    pub async fn events_until(
        &self,
        conversation: ConversationId,
        done: impl Fn(&ConversationEvent) -> bool,
    ) -> Vec<ConversationEvent> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let loaded = self
                .store
                .load::<ConversationEvent>(conversation)
                .await
                .expect("load");
            let events: Vec<_> = loaded
                .events
                .into_iter()
                .map(|s| s.envelope.event)
                .collect();
            if events.iter().any(&done) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "log never reached the expected event: {events:#?}"
            );
            tokio::task::yield_now().await;
        }
    }
}

async fn spawn_ledger_peer(client: async_nats::Client) {
    let mut holds = client
        .subscribe(subject::LEDGER_HOLD)
        .await
        .expect("subscribe");
    tokio::spawn(async move {
        while let Some(request) = holds.next().await {
            let body: Value = serde_json::from_slice(&request.payload).unwrap_or_default();
            let broke = body["user_id"].as_str() == Some(broke_user().to_string().as_str());
            let reply: Reply<HoldPlaced> = if broke {
                Err(Refusal::new(
                    RefusalCode::InsufficientCredits,
                    "balance 0 is below the 400 credits a call needs",
                ))
            } else {
                Ok(HoldPlaced {
                    held: Credits::new(4000),
                    available: Credits::new(6000),
                    covers_ms: None,
                })
            }
            .into();
            if let Some(to) = request.reply {
                let _ = client
                    .publish(to, serde_json::to_vec(&reply).expect("json").into())
                    .await;
            }
        }
    });
}

/// The gateway's side of one live conversation.
pub struct Call {
    client: async_nats::Client,
    pub started: SessionStarted,
    out: async_nats::Subscriber,
    heartbeats: tokio::task::JoinHandle<()>,
}

impl Drop for Call {
    fn drop(&mut self) {
        self.heartbeats.abort();
    }
}

/// What the gateway receives on `live.<id>.out`.
#[derive(Debug)]
pub enum Out {
    Frame(Value),
    Close(u16, String),
}

impl Call {
    pub async fn send(&self, frame: Value) {
        self.client
            .publish(self.started.subject_in.clone(), frame.to_string().into())
            .await
            .expect("publish");
    }

    pub async fn close(&self, code: u16) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(CLOSE_CODE_HEADER, code.to_string().as_str());
        self.client
            .publish_with_headers(self.started.subject_in.clone(), headers, "bye".into())
            .await
            .expect("publish");
    }

    /// The next frame or close; the session's heartbeats are skipped.
    pub async fn next(&mut self) -> Out {
        loop {
            let message = tokio::time::timeout(DEADLINE, self.out.next())
                .await
                .expect("a frame in time")
                .expect("open");
            match LiveMessage::from_message(&message) {
                LiveMessage::Heartbeat => {}
                LiveMessage::Close(close) => return Out::Close(close.code, close.reason),
                LiveMessage::Frame(body) => {
                    return Out::Frame(serde_json::from_slice(&body).expect("json frame"));
                }
            }
        }
    }

    /// Stops the heartbeats, as a gateway copy that died would.
    pub fn go_silent(&self) {
        self.heartbeats.abort();
    }

    /// Reads until a frame of `kind` (answering nothing; pings are the session's job).
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            match self.next().await {
                Out::Frame(frame) if frame["type"] == kind => return frame,
                Out::Frame(_) => {}
                Out::Close(code, reason) => {
                    panic!("closed {code} {reason} while waiting for {kind}")
                }
            }
        }
    }

    /// Reads until the close.
    pub async fn until_close(&mut self) -> (u16, String) {
        loop {
            if let Out::Close(code, reason) = self.next().await {
                return (code, reason);
            }
        }
    }

    pub async fn init(&self) {
        self.send(json!({"type": "conversation_initiation_client_data", "conversation_config_override": {}})).await;
    }
}
