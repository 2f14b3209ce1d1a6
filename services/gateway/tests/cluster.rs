//! Several gateway copies on one nats-server, as behind a load balancer:
//! the per-user live-call cap and single-use conversation signatures hold
//! across them, and the calls of a copy killed with `kill -9` stop counting
//! once their lease lapses.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use events::UserId;
use gateway::{JwtSecret, Role, issue_token};
use support::{
    DEADLINE, SessionSide, TestGateway, Ws, accepting_session, closed_with, connect, next_session,
    request,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

const AGENT: &str = "agent_cluster";
const BUSY: &str = "busy: too many live calls for this user";

/// Connects until a call is let in (its session is asked for), each refusal
/// being the busy close; fails at the deadline.
async fn connect_once_admitted(
    url: &str,
    token: &str,
    sessions: &mut mpsc::Receiver<SessionSide>,
) -> (Ws, SessionSide) {
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    loop {
        pace.tick().await;
        let (mut ws, _) = connect(request(url, &[("xi-api-key", token)])).await;
        tokio::select! {
            (code, reason) = closed_with(&mut ws) => assert_eq!((code, reason.as_str()), (1008, BUSY)),
            session = next_session(sessions) => return (ws, session),
        }
        assert!(Instant::now() < deadline, "never let in");
    }
}

async fn busy_on(url: &str, token: &str) {
    let (mut ws, _) = connect(request(url, &[("xi-api-key", token)])).await;
    assert_eq!(closed_with(&mut ws).await, (1008, BUSY.to_owned()));
}

#[tokio::test]
async fn the_live_call_cap_holds_across_copies() {
    let one_call = |config: &mut gateway::Config| config.live_calls_per_user = 1;
    let a = TestGateway::start_with(one_call).await;
    let b = a.another_copy(one_call).await;
    let mut sessions = accepting_session(&a.nats.url()).await;
    let (alice, bob) = (a.token(UserId::new()), a.token(UserId::new()));

    let (mut on_a, _session) = connect_once_admitted(&a.ws_url(AGENT), &alice, &mut sessions).await;
    busy_on(&b.ws_url(AGENT), &alice).await;
    busy_on(&a.ws_url(AGENT), &alice).await;
    let (_bob_on_b, _bobs) = connect_once_admitted(&b.ws_url(AGENT), &bob, &mut sessions).await;

    // Hanging up on A gives the slot back, for B too.
    on_a.close(None).await.expect("close");
    let (_on_b, _session) = connect_once_admitted(&b.ws_url(AGENT), &alice, &mut sessions).await;
    busy_on(&a.ws_url(AGENT), &alice).await;
}

async fn signed_url(gateway: &TestGateway, token: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .get(gateway.http_url(&format!(
            "/v1/convai/conversation/get-signed-url?agent_id={AGENT}"
        )))
        .header("xi-api-key", token)
        .send()
        .await
        .expect("request")
        .error_for_status()
        .expect("200")
        .json()
        .await
        .expect("json");
    body["signed_url"].as_str().expect("signed_url").to_owned()
}

#[tokio::test]
async fn a_signature_opens_one_conversation_across_copies() {
    let a = TestGateway::start().await;
    let b = a.another_copy(|_| {}).await;
    let mut sessions = accepting_session(&a.nats.url()).await;
    let token = a.token(UserId::new());
    let (host_a, host_b) = (a.addr.to_string(), b.addr.to_string());

    for (first, second) in [(&host_a, &host_b), (&host_b, &host_a)] {
        let url = signed_url(&a, &token).await.replace(&host_a, first);
        let (_ws, _session) = {
            let (mut ws, _) = connect(request(&url, &[])).await;
            tokio::select! {
                closed = closed_with(&mut ws) => panic!("refused: {closed:?}"),
                session = next_session(&mut sessions) => (ws, session),
            }
        };
        let replay = url.replace(first.as_str(), second);
        let (mut again, _) = connect(request(&replay, &[])).await;
        assert_eq!(
            closed_with(&mut again).await,
            (1008, "conversation signature already used".to_owned())
        );
    }
}

struct Killable(Child);

impl Drop for Killable {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_killed_copys_calls_stop_counting_after_their_lease() {
    const SECRET: &str = "a-test-secret-of-at-least-thirty-two-bytes";
    let secret = JwtSecret::new(SECRET.as_bytes()).expect("secret");
    let b = TestGateway::start_with(|config| {
        config.jwt_secret = secret.clone();
        config.live_calls_per_user = 1;
    })
    .await;
    let mut sessions = accepting_session(&b.nats.url()).await;
    let addr =
        std::net::SocketAddr::from(([127, 0, 0, 1], testkit::port::free_port().expect("port")));
    let mut a = Killable(
        Command::new(env!("CARGO_BIN_EXE_gateway"))
            .env("NATS_URL", b.nats.url())
            .env("PARLOR_HTTP_ADDR", addr.to_string())
            .env("PARLOR_JWT_SECRET", SECRET)
            .env("PARLOR_LIVE_CALLS_PER_USER", "1")
            .env("PARLOR_LIVE_CALL_LEASE_MS", "1000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("gateway binary"),
    );
    let child = &mut a.0;
    assert!(
        testkit::port::wait_until_accepting(addr, DEADLINE, || child
            .try_wait()
            .is_ok_and(|s| s.is_none())),
        "the gateway never listened"
    );
    let token = issue_token(&secret, UserId::new(), Role::User, Duration::from_secs(300));
    let url_a = format!("ws://{addr}/v1/convai/conversation?agent_id={AGENT}");
    let (_on_a, _session) = connect_once_admitted(&url_a, &token, &mut sessions).await;
    busy_on(&b.ws_url(AGENT), &token).await;

    a.0.kill().expect("kill -9");
    a.0.wait().expect("reaped");
    // Nothing released the slot; its lease lapses within a second.
    let (_on_b, _session) = connect_once_admitted(&b.ws_url(AGENT), &token, &mut sessions).await;
}
