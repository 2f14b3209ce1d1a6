//! One stack per test, on free ports, torn down at the end.

use std::time::{Duration, Instant};

use base64::Engine;
use elevenlabs::{
    ApiKey, Conversation, ConversationInitiationClientData, ConversationOptions, Endpoints, Target,
    WebhookSecret,
};
use elevenlabs_sim::{SimConfig, Simulator, WebhookConfig};
use events::command::{Balance, GetBalance, GrantCredits, Reply, subject};
use events::{ConversationEvent, ConversationId, Credits, EventId, UserId};
use eventstore::EventStore;
use gateway::chat::ChatConfig;
use gateway::{JwtSecret, Role};
use mongodb::bson::{Document, doc};
use parlor::stack::{Stack, StackConfig};
use testkit::{NatsServer, TestMongo};

pub const DEADLINE: Duration = Duration::from_secs(60);

/// One stack at a time: each is nats-server, mongo-memory, the simulator
/// and four services, and several at once starve a 2-core machine until
/// JetStream requests time out.
static ONE_STACK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct E2e {
    _turn: tokio::sync::MutexGuard<'static, ()>,
    _nats: NatsServer,
    pub sim: Simulator,
    _mongo: TestMongo,
    pub stack: Option<Stack>,
    pub config: StackConfig,
    pub secret: JwtSecret,
    pub client: async_nats::Client,
    pub store: EventStore,
    pub conversations: mongodb::Collection<Document>,
    /// What the gateway checks `ElevenLabs-Signature` with.
    pub webhook_secret: String,
}

/// How [`E2e::assemble`] builds a stack.
pub struct Setup {
    pub sim: SimConfig,
    pub run_session: bool,
    pub ledger_pricing: Option<ledger::Pricing>,
    /// The simulator posts its webhooks to the gateway, signed with the
    /// gateway's secret.
    pub sim_webhooks: bool,
    pub chat: ChatConfig,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            sim: SimConfig::fast(),
            run_session: true,
            ledger_pricing: None,
            sim_webhooks: false,
            chat: ChatConfig::default(),
        }
    }
}

impl E2e {
    pub async fn start() -> Self {
        Self::start_with(SimConfig::fast()).await
    }

    pub async fn start_with(sim_config: SimConfig) -> Self {
        Self::assemble(Setup {
            sim: sim_config,
            ..Setup::default()
        })
        .await
    }

    /// Without the session service: the test runs it where it can kill it
    /// (or configure it).
    pub async fn start_without_session() -> Self {
        Self::assemble(Setup {
            run_session: false,
            ..Setup::default()
        })
        .await
    }

    /// Without the session service, the ledger priced by `pricing`.
    pub async fn start_priced(pricing: ledger::Pricing) -> Self {
        Self::assemble(Setup {
            run_session: false,
            ledger_pricing: Some(pricing),
            ..Setup::default()
        })
        .await
    }

    pub async fn assemble(setup: Setup) -> Self {
        let Setup {
            sim: mut sim_config,
            run_session,
            ledger_pricing,
            sim_webhooks,
            chat,
        } = setup;
        let turn = ONE_STACK_AT_A_TIME.lock().await;
        let nats = NatsServer::start().expect("nats-server");
        let webhook_secret = format!("whsec_{}", UserId::new());
        // The simulator needs the gateway's address before the gateway runs.
        let http_port = testkit::port::free_port().expect("a free port");
        if sim_webhooks {
            let url = format!("http://127.0.0.1:{http_port}/webhooks/elevenlabs");
            sim_config.webhook = Some(WebhookConfig::new(url, webhook_secret.clone()));
        }
        let sim = Simulator::start(sim_config).await.expect("simulator");
        let mongo = TestMongo::start("parlor_e2e").await.expect("mongodb");
        let (mongodb_uri, database) = (mongo.uri().to_owned(), mongo.database().to_owned());
        let secret = JwtSecret::random();
        let config = StackConfig {
            http_addr: format!("127.0.0.1:{http_port}").parse().expect("addr"),
            nats_url: nats.url(),
            mongodb_uri: mongodb_uri.clone(),
            mongodb_database: database.clone(),
            elevenlabs: Endpoints::from_http_base(&sim.http_base_url()).expect("sim url"),
            elevenlabs_api_key: ApiKey::new(sim.api_key()),
            jwt_secret: secret.clone(),
            session_instance: "session-e2e".to_owned(),
            run_session,
            ledger_pricing,
            webhook_secret: Some(WebhookSecret::new(webhook_secret.clone())),
            chat,
        };
        let stack = Stack::start(config.clone()).await.expect("stack");
        let client = async_nats::connect(nats.url()).await.expect("nats");
        let store = EventStore::new(client.clone());
        let conversations = mongodb::Client::with_uri_str(&mongodb_uri)
            .await
            .expect("mongodb")
            .database(&database)
            .collection::<Document>("conversations");
        Self {
            _turn: turn,
            _nats: nats,
            sim,
            _mongo: mongo,
            stack: Some(stack),
            config,
            secret,
            client,
            store,
            conversations,
            webhook_secret,
        }
    }

    /// A user holding `credits`, and their token.
    pub async fn user(&self, credits: i64) -> (UserId, String) {
        let user = UserId::new();
        if credits > 0 {
            let grant = GrantCredits {
                grant_id: EventId::new(),
                user_id: user,
                credits: Credits::new(credits),
                reason: None,
            };
            let body = serde_json::to_vec(&grant).expect("json");
            // Until the ledger is subscribed there are no responders; the grant id makes retries safe.
            let reply = testkit::request::until_answered(
                &self.client,
                subject::LEDGER_GRANT,
                &body,
                DEADLINE,
            )
            .await
            .expect("the ledger never answered");
            serde_json::from_slice::<Reply<Balance>>(&reply.payload)
                .expect("reply")
                .into_result()
                .expect("granted");
        }
        (
            user,
            gateway::issue_token(&self.secret, user, Role::User, Duration::from_secs(3600)),
        )
    }

    pub fn gateway_http(&self) -> String {
        format!(
            "http://{}",
            self.stack.as_ref().expect("running").gateway_addr()
        )
    }

    pub fn ws_url(&self) -> String {
        format!(
            "ws://{}/v1/convai/conversation?agent_id={}",
            self.stack.as_ref().expect("running").gateway_addr(),
            self.sim.default_agent_id()
        )
    }

    /// An ElevenLabs-protocol client (the `elevenlabs` crate) talking to the gateway, the token as its API key.
    pub async fn connect(
        &self,
        token: &str,
        init: serde_json::Value,
    ) -> Result<Conversation, elevenlabs::ConnectError> {
        let endpoints = Endpoints::from_http_base(&self.gateway_http()).expect("gateway url");
        let target = Target::Agent {
            agent_id: self.sim.default_agent_id().to_owned(),
            api_key: Some(ApiKey::new(token)),
        };
        let init: ConversationInitiationClientData = serde_json::from_value(init).expect("init");
        Conversation::connect(&endpoints, target, init, &ConversationOptions::default()).await
    }

    /// Until a session service answers (a malformed start is refused, not ignored).
    pub async fn wait_for_session(&self) {
        let reply =
            testkit::request::until_answered(&self.client, subject::SESSION_START, b"{}", DEADLINE)
                .await
                .expect("no session service answered");
        let body: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
        assert_eq!(body["error"]["code"], "invalid_request");
    }

    pub async fn balance(&self, user: UserId) -> Balance {
        let body = serde_json::to_vec(&GetBalance { user_id: user }).expect("json");
        let reply = self
            .client
            .request(subject::LEDGER_BALANCE, body.into())
            .await
            .expect("reply");
        serde_json::from_slice::<Reply<Balance>>(&reply.payload)
            .expect("reply")
            .into_result()
            .expect("balance")
    }

    /// Polls the conversation's document until `ready` holds.
    pub async fn document_where(
        &self,
        filter: Document,
        ready: impl Fn(&Document) -> bool,
    ) -> Document {
        poll_until(&format!("a ready document for {filter}"), || async {
            let found = self
                .conversations
                .find_one(filter.clone())
                .await
                .expect("find");
            found.filter(|d| ready(d))
        })
        .await
    }

    /// The document of the call ElevenLabs knows as `elevenlabs_id`, once `ready`.
    pub async fn document_of(
        &self,
        elevenlabs_id: &str,
        ready: impl Fn(&Document) -> bool,
    ) -> Document {
        self.document_where(
            doc! { "metadata.elevenlabs_conversation_id": elevenlabs_id },
            ready,
        )
        .await
    }

    /// The conversation's events, once the log holds one matching `done`.
    pub async fn events_until(
        &self,
        conversation: ConversationId,
        done: impl Fn(&ConversationEvent) -> bool,
    ) -> Vec<ConversationEvent> {
        poll_until(&format!("the expected event of {conversation}"), || async {
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
            events.iter().any(&done).then_some(events)
        })
        .await
    }

    /// The user's balance, once `ready` holds.
    pub async fn settled_balance(&self, user: UserId, ready: impl Fn(&Balance) -> bool) -> Balance {
        poll_until(&format!("a settled balance of {user}"), || async {
            Some(self.balance(user).await).filter(|b| ready(b))
        })
        .await
    }

    /// Until the simulator no longer holds `elevenlabs_id`'s socket open.
    pub async fn no_open_upstream(&self, elevenlabs_id: &str) {
        poll_until(&format!("the upstream {elevenlabs_id} closed"), || async {
            (!self.sim.open_calls().iter().any(|id| id == elevenlabs_id)).then_some(())
        })
        .await;
    }

    pub async fn stop(mut self) {
        if let Some(stack) = self.stack.take() {
            stack.stop().await.expect("clean stop");
        }
    }
}

/// Runs a session copy on a runtime of its own, so that shutting the
/// runtime down kills the copy mid-call with no chance to close anything,
/// as a crash would. Returns once a session copy answers.
pub async fn doomed_session(e2e: &E2e, config: session::Config) -> tokio::runtime::Runtime {
    let doomed = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    doomed.spawn(session::run(config, std::future::pending()));
    e2e.wait_for_session().await;
    doomed
}

/// How often [`poll_until`] looks again.
const POLL_EVERY: Duration = Duration::from_millis(25);

/// Asks `check` at a steady pace until it answers, failing the test at
/// [`DEADLINE`]. Read models and the ledger's balance have no change feed
/// here, so tests look again rather than wait for a signal.
pub async fn poll_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(POLL_EVERY);
    loop {
        pace.tick().await;
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
    }
}

/// `ms` of 16 kHz 16-bit mono PCM, a tone when `loud`, else silence, base64.
pub fn pcm(ms: u64, loud: bool) -> String {
    let samples = 16 * ms;
    let bytes: Vec<u8> = (0..samples)
        .flat_map(|i| {
            let v = if loud {
                ((i as f64 * 0.2).sin() * 12_000.0) as i16
            } else {
                0
            };
            v.to_le_bytes()
        })
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
