//! Every kind of bearer token over real HTTP and WebSocket: NextAuth
//! sessions (made by next-auth 4.24 itself, see `fixtures/make-nextauth.js`)
//! as a bearer or the session cookie, whole or chunked; RS256 tokens of an
//! identity provider by JWKS `kid`; refusals as 401 problem+json; and the
//! per-caller HTTP rate limit.

mod support;

use std::num::NonZeroU32;
use std::path::PathBuf;

use events::UserId;
use gateway::auth::{NextAuthKey, PublicKeys};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use support::{TestGateway, accepting_session, connect, next_session, request};

const NEXTAUTH_SECRET: &str = "the NEXTAUTH_SECRET of the seed app";
const FIXTURE_USER: &str = "65a1b2c3d4e5f60718293a4b";
const SIGNED_URL: &str = "/v1/convai/conversation/get-signed-url?agent_id=agent_tokens";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name))
        .expect("fixture")
        .trim()
        .to_owned()
}

async fn with_nextauth() -> TestGateway {
    TestGateway::start_with(|config| {
        config.nextauth = Some(NextAuthKey::derive(NEXTAUTH_SECRET.as_bytes()).expect("key"));
    })
    .await
}

/// Status and problem detail (empty on success) of `get-signed-url`.
async fn ask(gateway: &TestGateway, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = reqwest::Client::new().get(gateway.http_url(SIGNED_URL));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    if status == 200 {
        return (status, String::new());
    }
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.expect("json");
    (
        status,
        problem["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_nextauth_session_is_accepted_as_bearer_or_cookie() {
    let gateway = with_nextauth().await;
    let session = read_fixture("nextauth-session.jwe");
    let ok = (200, String::new());
    let bearer = format!("Bearer {session}");
    assert_eq!(ask(&gateway, &[("authorization", &bearer)]).await, ok);
    assert_eq!(ask(&gateway, &[("xi-api-key", &session)]).await, ok);
    let cookie = format!("theme=dark; next-auth.session-token={session}");
    assert_eq!(ask(&gateway, &[("cookie", &cookie)]).await, ok);
    let secure = format!("__Secure-next-auth.session-token={session}");
    assert_eq!(ask(&gateway, &[("cookie", &secure)]).await, ok);
    let (head, tail) = session.split_at(100);
    let chunked = format!("next-auth.session-token.1={tail}; next-auth.session-token.0={head}");
    assert_eq!(ask(&gateway, &[("cookie", &chunked)]).await, ok);
}

#[tokio::test]
async fn expired_tampered_and_unexpected_nextauth_sessions_are_401() {
    let gateway = with_nextauth().await;
    let expired = read_fixture("nextauth-expired.jwe");
    assert_eq!(
        ask(&gateway, &[("xi-api-key", &expired)]).await,
        (401, "invalid token: expired".to_owned())
    );
    let session = read_fixture("nextauth-session.jwe");
    let mut parts: Vec<&str> = session.split('.').collect();
    let flipped = parts[3].replacen(|c: char| c != 'A', "A", 1);
    parts[3] = &flipped;
    let tampered = parts.join(".");
    assert_eq!(
        ask(
            &gateway,
            &[("authorization", &format!("Bearer {tampered}"))]
        )
        .await,
        (
            401,
            "invalid token: cannot be decrypted with NEXTAUTH_SECRET".to_owned()
        )
    );
    let cookie = format!("next-auth.session-token={tampered}");
    assert_eq!(ask(&gateway, &[("cookie", &cookie)]).await.0, 401);

    let without = TestGateway::start().await;
    assert_eq!(
        ask(&without, &[("xi-api-key", &session)]).await,
        (
            401,
            "invalid token: NextAuth session tokens are not accepted: NEXTAUTH_SECRET is not set"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn the_seed_apps_browser_opens_a_conversation_with_its_session_cookie() {
    let gateway = with_nextauth().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let cookie = format!(
        "next-auth.session-token={}",
        read_fixture("nextauth-session.jwe")
    );
    let (_ws, _) = connect(request(
        &gateway.ws_url("agent_tokens"),
        &[("cookie", &cookie)],
    ))
    .await;
    let session = next_session(&mut sessions).await;
    assert_eq!(session.request.user_id.to_string(), FIXTURE_USER);
}

#[tokio::test]
async fn rs256_tokens_of_an_identity_provider_are_checked_by_kid() {
    let gateway = TestGateway::start_with(|config| {
        let mut keys = PublicKeys::default();
        keys.add_jwks_file(&fixture("jwks.json")).expect("jwks");
        config.jwt_public_keys = keys;
    })
    .await;
    let claims = serde_json::json!({
        "sub": UserId::new().to_string(),
        "role": "finance",
        "exp": jsonwebtoken::get_current_timestamp() + 600,
    });
    let private = std::fs::read(fixture("rsa-private.pem")).expect("pem");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(&private).expect("key"),
    )
    .expect("sign");
    assert_eq!(
        ask(&gateway, &[("xi-api-key", &token)]).await,
        (200, String::new())
    );
    // The same claims HMAC'd with the public key's bytes (algorithm confusion).
    let public = std::fs::read(fixture("rsa-public.pem")).expect("pem");
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&public).expect("key"),
    )
    .expect("sign");
    assert_eq!(
        ask(&gateway, &[("authorization", &format!("Bearer {forged}"))]).await,
        (401, "invalid token: signature does not match".to_owned())
    );
}

#[tokio::test]
async fn each_caller_has_its_own_rate_and_probes_are_never_limited() {
    let gateway = TestGateway::start_with(|config| {
        config.http_rate.per_sec = NonZeroU32::MIN;
        config.http_rate.burst = NonZeroU32::new(2).expect("2");
    })
    .await;
    let alice = gateway.token(UserId::new());
    for _ in 0..2 {
        assert_eq!(ask(&gateway, &[("xi-api-key", &alice)]).await.0, 200);
    }
    // A token a second comes back; well before 20 requests have gone out
    // the burst is spent.
    let mut response = None;
    for _ in 0..20 {
        let answer = reqwest::Client::new()
            .get(gateway.http_url(SIGNED_URL))
            .header("xi-api-key", &alice)
            .send()
            .await
            .expect("request");
        if answer.status() == 429 {
            response = Some(answer);
            break;
        }
    }
    let response = response.expect("throttled");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    let bob = gateway.token(UserId::new());
    assert_eq!(ask(&gateway, &[("xi-api-key", &bob)]).await.0, 200);

    // Without a token the peer's address is the caller.
    assert_eq!(ask(&gateway, &[]).await.0, 401);
    assert_eq!(ask(&gateway, &[]).await.0, 401);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(ask(&gateway, &[]).await.0);
        if statuses.last() == Some(&429) {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    for _ in 0..5 {
        let health = reqwest::get(gateway.http_url("/healthz"))
            .await
            .expect("health");
        assert_eq!(health.status(), 200);
    }
}
