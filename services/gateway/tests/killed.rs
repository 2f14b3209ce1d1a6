//! `kill -9` of a real gateway process holding live calls: the sessions
//! notice the gateway's heartbeats stop, end every upstream, close every
//! conversation in the log and release every hold.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use elevenlabs::{
    ApiKey, Conversation, ConversationInitiationClientData, ConversationOptions, Endpoints,
    ServerEvent, Target,
};
use elevenlabs_sim::{SimConfig, Simulator};
use events::command::{Balance, GetBalance, GrantCredits, subject};
use events::conversation::EndReason;
use events::{ConversationEvent, Credits, EventId, UserId};
use eventstore::{EventStore, ReplayFrom, StreamName};
use futures::TryStreamExt;
use gateway::{JwtSecret, Role, issue_token};
use testkit::NatsServer;
use tokio::time::Instant;

const CALLS: usize = 10;
const DEADLINE: Duration = Duration::from_secs(60);
const SECRET: &str = "a-test-secret-of-at-least-thirty-two-bytes";

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `check` until it answers, failing at the deadline.
async fn eventually<T, Fut: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> Fut) -> T {
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    loop {
        pace.tick().await;
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
    }
}

#[tokio::test]
async fn killing_the_gateway_ends_every_call_everywhere() {
    let nats = NatsServer::start().expect("nats-server");
    let sim = Simulator::start(SimConfig::fast())
        .await
        .expect("simulator");
    let store = EventStore::connect(&nats.url()).await.expect("nats");
    store.ensure_streams().await.expect("streams");
    let client = store.client().clone();

    let ledger = ledger::Config::new(nats.url());
    tokio::spawn(ledger::run(ledger, std::future::pending()));
    let mut session = session::Config::new(
        nats.url(),
        Endpoints::from_http_base(&sim.http_base_url()).expect("sim"),
        ApiKey::new(sim.api_key()),
    );
    session.limits.heartbeat_timeout_ms = 2_000;
    tokio::spawn(session::run(session, std::future::pending()));

    let port = testkit::port::free_port().expect("port");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut gateway = Gateway(
        Command::new(env!("CARGO_BIN_EXE_gateway"))
            .env("NATS_URL", nats.url())
            .env("PARLOR_HTTP_ADDR", addr.to_string())
            .env("PARLOR_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("gateway binary"),
    );
    let child = &mut gateway.0;
    assert!(
        testkit::port::wait_until_accepting(addr, DEADLINE, || child
            .try_wait()
            .is_ok_and(|s| s.is_none())),
        "the gateway never listened"
    );

    let secret = JwtSecret::new(SECRET.as_bytes()).expect("secret");
    let endpoints = Endpoints::from_http_base(&format!("http://{addr}")).expect("gateway");
    let mut users = Vec::new();
    let mut calls = Vec::new();
    for _ in 0..CALLS {
        let user = UserId::new();
        let grant = GrantCredits {
            grant_id: EventId::new(),
            user_id: user,
            credits: Credits::new(10_000),
            reason: None,
        };
        let _: Balance = bus::request(&client, subject::LEDGER_GRANT, &grant, DEADLINE)
            .await
            .expect("granted");
        let token = issue_token(&secret, user, Role::User, Duration::from_secs(600));
        let target = Target::Agent {
            agent_id: sim.default_agent_id().to_owned(),
            api_key: Some(ApiKey::new(token)),
        };
        let init: ConversationInitiationClientData = serde_json::from_value(
            serde_json::json!({"conversation_config_override": {"conversation": {"text_only": true}}}),
        )
        .expect("init");
        let mut call =
            Conversation::connect(&endpoints, target, init, &ConversationOptions::default())
                .await
                .expect("connected through the gateway");
        let Some(ServerEvent::AgentResponse(_)) = call.next_event().await else {
            panic!("greeting")
        };
        users.push(user);
        calls.push(call);
    }
    let elevenlabs_ids: Vec<String> = calls
        .iter()
        .map(|c| c.conversation_id().to_owned())
        .collect();

    gateway.0.kill().expect("kill -9");
    gateway.0.wait().expect("reaped");

    for id in &elevenlabs_ids {
        eventually(&format!("the upstream {id} closed"), || async {
            let record = sim.conversation(id)?;
            (record["status"] != "in-progress").then_some(())
        })
        .await;
    }
    let ended = eventually("every conversation ended in the log", || async {
        let mut by_conversation: HashMap<String, Vec<ConversationEvent>> = HashMap::new();
        let messages: Vec<_> = store
            .replay(StreamName::Conversations, ReplayFrom::Beginning)
            .await
            .ok()?
            .try_collect()
            .await
            .ok()?;
        for message in messages {
            let envelope = message.decode::<ConversationEvent>().ok()?;
            by_conversation
                .entry(envelope.meta.aggregate_id)
                .or_default()
                .push(envelope.event);
        }
        let terminals: Vec<_> = by_conversation
            .values()
            .filter_map(|events| events.iter().find(|e| e.is_terminal()).cloned())
            .collect();
        (by_conversation.len() == CALLS && terminals.len() == CALLS).then_some(terminals)
    })
    .await;
    for terminal in ended {
        assert!(
            matches!(&terminal, ConversationEvent::Ended(e) if e.reason == EndReason::ClientDisconnected),
            "{terminal:?}"
        );
    }
    for user in users {
        eventually(&format!("the hold of {user} released"), || async {
            let balance: Balance = bus::request(
                &client,
                subject::LEDGER_BALANCE,
                &GetBalance { user_id: user },
                DEADLINE,
            )
            .await
            .ok()?;
            (balance.held.get() == 0).then_some(())
        })
        .await;
    }
}
