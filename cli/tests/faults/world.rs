//! A stack of real processes: nats-server (one, or a 3-node cluster),
//! mongo-memory, the simulator (its post-call webhooks signed to the
//! gateway), and `parlor serve <service>` children —
//! one gateway and two copies each of session, ledger and projector — that
//! a test kills with SIGKILL and starts again, as an orchestrator would.

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use elevenlabs::{ApiKey, Endpoints};
use elevenlabs_sim::{SimConfig, Simulator, WebhookConfig};
use events::command::{Balance, GetBalance, Reply, subject};
use eventstore::{EventStore, Replicas, StreamName};
use gateway::JwtSecret;
use mongodb::bson::{Document, doc};
use parlor::load::{LoadConfig, Report, Target};
use testkit::{NatsCluster, NatsServer, TestMongo};

pub const DEADLINE: Duration = Duration::from_secs(120);
/// What every fault run drives: small enough for CI, long enough that a
/// fault lands while calls are live.
pub const LOAD: LoadConfig = LoadConfig {
    calls: 8,
    turns: 12,
    floods: 0,
    oversized: 0,
    vanishing: 0,
    drops: 0,
    flood_messages: 0,
};

/// One stack at a time: each is a dozen processes on a 2-core machine.
static ONE_STACK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub enum Nats {
    Single(NatsServer),
    Cluster(NatsCluster),
}

impl Nats {
    fn url(&self) -> String {
        match self {
            Self::Single(server) => server.url(),
            Self::Cluster(cluster) => cluster.url(),
        }
    }

    /// One node no test stops: the gateway's `NATS_URL` (it parses one URL,
    /// not a list), and the test's own connection, so that what observes
    /// the fault is not struck by it.
    fn steady_url(&self) -> String {
        match self {
            Self::Single(server) => server.url(),
            Self::Cluster(cluster) => cluster.node_url(testkit::cluster::NODES - 1),
        }
    }

    fn replicas(&self) -> Replicas {
        match self {
            Self::Single(_) => Replicas::ONE,
            Self::Cluster(_) => Replicas::new(testkit::cluster::NODES).expect("3 replicas"),
        }
    }

    pub fn cluster(&mut self) -> &mut NatsCluster {
        match self {
            Self::Cluster(cluster) => cluster,
            Self::Single(_) => panic!("this stack runs on one nats-server"),
        }
    }

    pub fn single(&mut self) -> &mut NatsServer {
        match self {
            Self::Single(server) => server,
            Self::Cluster(_) => panic!("this stack runs on a cluster"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Gateway,
    Session,
    Ledger,
    Projector,
}

impl Service {
    fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Session => "session",
            Self::Ledger => "ledger",
            Self::Projector => "projector",
        }
    }
}

/// One service process, with what it needs to be started again alike.
struct Copy {
    service: Service,
    env: Vec<(&'static str, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Copy {
    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("service log");
        let child = Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(["serve", self.service.as_str()])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("parlor serve");
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL: no chance to close anything, as a crash.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A test that fails leaves no service running.
impl Drop for Copy {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct World {
    _turn: tokio::sync::MutexGuard<'static, ()>,
    pub nats: Nats,
    pub sim: Simulator,
    _mongo: TestMongo,
    copies: Vec<Copy>,
    _logs: Logs,
    target: Target,
    pub store: EventStore,
    client: async_nats::Client,
}

impl World {
    pub async fn start(nats: Nats, sim_config: SimConfig) -> Self {
        let turn = ONE_STACK_AT_A_TIME.lock().await;
        let gateway_port = testkit::port::free_port().expect("port");
        // ElevenLabs' post-call webhooks reach the gateway, as in production.
        let webhook_secret = format!("wsec_{}", events::EventId::new());
        let sim_config = sim_config.with_webhook(WebhookConfig::new(
            format!("http://127.0.0.1:{gateway_port}/webhooks/elevenlabs"),
            webhook_secret.clone(),
        ));
        let sim = Simulator::start(sim_config).await.expect("simulator");
        let mongo = TestMongo::start("parlor_faults").await.expect("mongodb");
        let store = EventStore::connect(&nats.steady_url()).await.expect("nats");
        store
            .ensure_streams_with(nats.replicas())
            .await
            .expect("streams");
        let client = store.client().clone();
        let secret_text = format!("{}{}", events::EventId::new(), events::EventId::new());
        let secret = JwtSecret::new(secret_text.as_bytes()).expect("secret");
        let logs = tempfile::Builder::new()
            .prefix("parlor-faults-")
            .tempdir()
            .expect("logs");
        let common = vec![
            ("NATS_URL", nats.url()),
            (
                "PARLOR_STREAM_REPLICAS",
                nats.replicas().count().to_string(),
            ),
            ("RUST_LOG", "warn".to_owned()),
        ];
        let mut copies = Vec::new();
        let mut copy = |service: Service, name: &str, extra: Vec<(&'static str, String)>| {
            let mut env = common.clone();
            env.extend(extra);
            copies.push(Copy {
                service,
                env,
                log: logs.path().join(format!("{name}.log")),
                child: None,
            });
        };
        for n in ["a", "b"] {
            copy(
                Service::Ledger,
                &format!("ledger-{n}"),
                vec![("PARLOR_LEDGER_ACK_WAIT_SECS", "2".to_owned())],
            );
            copy(
                Service::Projector,
                &format!("projector-{n}"),
                vec![
                    ("MONGODB_URI", mongo.uri().to_owned()),
                    ("MONGODB_DATABASE", mongo.database().to_owned()),
                    ("PARLOR_PROJECTOR_INSTANCE", format!("projector-{n}")),
                ],
            );
            copy(
                Service::Session,
                &format!("session-{n}"),
                vec![
                    ("ELEVENLABS_BASE_URL", sim.http_base_url()),
                    ("ELEVENLABS_API_KEY", sim.api_key().to_owned()),
                    ("PARLOR_SESSION_INSTANCE", format!("session-{n}")),
                    ("PARLOR_OWNER_TIMEOUT_MS", "2000".to_owned()),
                    ("PARLOR_HEARTBEAT_TIMEOUT_MS", "2000".to_owned()),
                    ("PARLOR_COST_TIMEOUT_SECS", "60".to_owned()),
                ],
            );
        }
        copy(
            Service::Gateway,
            "gateway",
            vec![
                ("NATS_URL", nats.steady_url()),
                ("PARLOR_HTTP_ADDR", format!("127.0.0.1:{gateway_port}")),
                ("PARLOR_JWT_SECRET", secret_text.clone()),
                ("ELEVENLABS_WEBHOOK_SECRET", webhook_secret),
                ("PARLOR_HEARTBEAT_TIMEOUT_MS", "2000".to_owned()),
            ],
        );
        for copy in &mut copies {
            copy.spawn();
        }
        let conversations = mongodb::Client::with_uri_str(mongo.uri())
            .await
            .expect("mongodb")
            .database(mongo.database())
            .collection::<Document>("conversations");
        let target = Target {
            gateway: Endpoints::from_http_base(&format!("http://127.0.0.1:{gateway_port}"))
                .expect("gateway url"),
            simulator: Endpoints::from_http_base(&sim.http_base_url()).expect("sim url"),
            simulator_key: ApiKey::new(sim.api_key()),
            agent_id: sim.default_agent_id().to_owned(),
            jwt_secret: secret,
            nats: client.clone(),
            conversations,
        };
        let world = Self {
            _turn: turn,
            nats,
            sim,
            _mongo: mongo,
            copies,
            _logs: Logs(Some(logs)),
            target,
            store,
            client,
        };
        world.until_ready(gateway_port).await;
        world
    }

    /// Until the gateway accepts and a session and a ledger answer.
    async fn until_ready(&self, gateway_port: u16) {
        let addr = SocketAddr::from(([127, 0, 0, 1], gateway_port));
        let accepting = tokio::task::spawn_blocking(move || {
            testkit::port::wait_until_accepting(addr, DEADLINE, || true)
        })
        .await
        .expect("joined");
        assert!(accepting, "the gateway never listened");
        for (subject, body) in [
            (subject::SESSION_START, b"{}".to_vec()),
            (
                subject::LEDGER_BALANCE,
                serde_json::to_vec(&GetBalance {
                    user_id: events::UserId::new(),
                })
                .expect("json"),
            ),
        ] {
            testkit::request::until_answered(&self.client, subject, &body, DEADLINE)
                .await
                .unwrap_or_else(|| panic!("nobody answered {subject}"));
        }
    }

    /// Runs [`LOAD`] and `fault` at once; the fault starts once calls are
    /// live (the log holds `after_events` conversation events), and what
    /// it stopped comes back after the load.
    pub async fn load_with(&mut self, after_events: u64, fault: Fault) -> Report {
        let load = parlor::load::run(&self.target, &LOAD);
        let store = self.store.clone();
        let (nats, copies, sim) = (&mut self.nats, &mut self.copies, &self.sim);
        let faulted = async {
            until_events(&store, after_events).await;
            match fault.clone() {
                Fault::Kill(service, index) => {
                    let copy = copies
                        .iter_mut()
                        .filter(|c| c.service == service)
                        .nth(index)
                        .expect("no such copy");
                    copy.kill();
                    // Its orchestrator starts it again, while the load goes on.
                    copy.spawn();
                }
                Fault::StopNatsNode(node) => nats.cluster().kill(node),
                Fault::Simulator(fault) => sim.inject(fault),
                Fault::RestartNats => tokio::task::block_in_place(|| {
                    nats.single().restart().expect("nats-server restarted");
                }),
            }
        };
        let (report, ()) = tokio::join!(load, faulted);
        if let Fault::StopNatsNode(node) = fault {
            let cluster = self.nats.cluster();
            tokio::task::block_in_place(|| cluster.restart(node).expect("node restarted"));
        }
        report.expect("the load ran")
    }

    /// Runs [`LOAD`] with no fault.
    pub async fn load(&mut self) -> Report {
        parlor::load::run(&self.target, &LOAD)
            .await
            .expect("the load ran")
    }

    /// Once every call is over in the read model, no hold is open and the
    /// ledger has handled every conversation event (a cost report it has
    /// yet to book would change a balance), the read model and ledger
    /// reduced to what a fault must not change.
    pub async fn settled(&self) -> Outcome {
        let deadline = Instant::now() + DEADLINE;
        let mut pace = tokio::time::interval(Duration::from_millis(100));
        let mut last = None;
        loop {
            pace.tick().await;
            match self.outcome().await {
                // Unchanged across two looks: nothing is still arriving.
                Ok(outcome) if last.as_ref() == Some(&Ok(outcome.clone())) => return outcome,
                seen => last = Some(seen),
            }
            assert!(
                Instant::now() < deadline,
                "the stack never settled; last seen: {last:?}"
            );
        }
    }

    /// What the stack holds now, or what it is still waiting for.
    async fn outcome(&self) -> Result<Outcome, String> {
        use futures::TryStreamExt;
        let docs: Vec<Document> = async {
            self.target
                .conversations
                .find(doc! {})
                .await?
                .try_collect()
                .await
        }
        .await
        .map_err(|e| format!("reading conversations: {e}"))?;
        if docs.len() != LOAD.calls {
            return Err(format!("{} of {} conversations", docs.len(), LOAD.calls));
        }
        let mut calls = Vec::new();
        for doc in &docs {
            let id = doc.get("_id").map(ToString::to_string).unwrap_or_default();
            let status = doc.get_str("status").unwrap_or_default();
            if !matches!(status, "done" | "failed") {
                return Err(format!("conversation {id} is {status:?}"));
            }
            let user = doc
                .get_object_id("userId")
                .map_err(|e| format!("conversation {id} has no userId: {e}"))?;
            let balance = self
                .balance(events::UserId::from_bytes(user.bytes()))
                .await
                .ok_or_else(|| format!("no balance of {user}"))?;
            if balance.held.get() != 0 {
                return Err(format!("{user} still holds {}", balance.held.get()));
            }
            calls.push(Call::of(doc, &balance));
        }
        calls.sort();
        self.ledger_caught_up().await?;
        let trial_balance = parlor::load::trial_balance(&self.store)
            .await
            .map_err(|e| format!("the ledger could not be replayed: {e:#}"))?;
        Ok(Outcome {
            calls,
            trial_balance,
        })
    }

    /// Ok once the ledger's durable consumer has nothing left to deliver
    /// and nothing delivered unacknowledged.
    async fn ledger_caught_up(&self) -> Result<(), String> {
        let js = async_nats::jetstream::new(self.client.clone());
        let mut consumer: async_nats::jetstream::consumer::PullConsumer = js
            .get_consumer_from_stream(
                ledger::consumer::DURABLE,
                StreamName::Conversations.as_str(),
            )
            .await
            .map_err(|e| format!("the ledger's consumer: {e}"))?;
        let info = consumer
            .info()
            .await
            .map_err(|e| format!("the ledger's consumer: {e}"))?;
        match (info.num_pending, info.num_ack_pending) {
            (0, 0) => Ok(()),
            (pending, unacked) => Err(format!(
                "the ledger has {pending} conversation events to take and {unacked} to finish"
            )),
        }
    }

    async fn balance(&self, user: events::UserId) -> Option<Balance> {
        let body = serde_json::to_vec(&GetBalance { user_id: user }).ok()?;
        let reply = tokio::time::timeout(
            Duration::from_secs(2),
            self.client.request(subject::LEDGER_BALANCE, body.into()),
        )
        .await
        .ok()?
        .ok()?;
        serde_json::from_slice::<Reply<Balance>>(&reply.payload)
            .ok()?
            .into_result()
            .ok()
    }

    /// Stops every service copy.
    pub async fn stop(mut self) {
        for copy in &mut self.copies {
            copy.kill();
        }
        self.sim.shutdown().await;
    }
}

/// The services' logs, kept when the test fails.
struct Logs(Option<tempfile::TempDir>);

impl Drop for Logs {
    #[expect(clippy::print_stderr, reason = "where a failed test's logs are")]
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(logs) = self.0.take()
        {
            eprintln!("the services' logs are kept in {}", logs.keep().display());
        }
    }
}

/// What goes wrong mid-load.
#[derive(Clone, Debug)]
pub enum Fault {
    /// SIGKILL copy `index` of a service, then start it again.
    Kill(Service, usize),
    /// SIGKILL one node of the NATS cluster; it restarts after the load.
    StopNatsNode(usize),
    /// Restart the single nats-server on its port and store.
    RestartNats,
    /// Arm a simulator fault for the next call it applies to.
    Simulator(elevenlabs_sim::Fault),
}

/// Until the conversation stream holds `count` messages.
async fn until_events(store: &EventStore, count: u64) {
    let js = async_nats::jetstream::new(store.client().clone());
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(10));
    loop {
        pace.tick().await;
        if let Ok(mut stream) = js.get_stream(StreamName::Conversations.as_str()).await
            && stream
                .info()
                .await
                .is_ok_and(|info| info.state.messages >= count)
        {
            return;
        }
        assert!(Instant::now() < deadline, "the load never got going");
    }
}

/// One call as a fault must leave it: its document's status, transcript
/// and money, and what its user holds after it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Call {
    pub status: String,
    pub messages: Vec<(String, String)>,
    /// `cost` and `metrics.creditsUsed`, as text (they are doubles).
    pub cost: String,
    pub credits_used: String,
    pub available: i64,
}

impl Call {
    fn of(doc: &Document, balance: &Balance) -> Self {
        let messages = doc
            .get_array("messages")
            .map(|messages| {
                messages
                    .iter()
                    .filter_map(|m| m.as_document())
                    .map(|m| {
                        (
                            m.get_str("role").unwrap_or_default().to_owned(),
                            m.get_str("message").unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let number =
            |value: Option<&mongodb::bson::Bson>| value.map_or_else(String::new, |v| v.to_string());
        Self {
            status: doc.get_str("status").unwrap_or_default().to_owned(),
            messages,
            cost: number(doc.get("cost")),
            credits_used: number(
                doc.get_document("metrics")
                    .ok()
                    .and_then(|m| m.get("creditsUsed")),
            ),
            available: balance.available.get(),
        }
    }
}

/// What a run of [`LOAD`] ends as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub calls: Vec<Call>,
    pub trial_balance: i64,
}
