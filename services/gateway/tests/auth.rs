//! Who may open the conversation WebSocket: a Parlor token in each of the
//! three places the SDKs put it; anything else closes with 1008 before a
//! session is ever asked.

mod support;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use events::UserId;
use gateway::{JwtSecret, Role, issue_token};
use support::{
    INITIATION, Inbound, TestGateway, accepting_session, closed_with, connect, next_session,
    request, send,
};

const AGENT: &str = "agent_test";

#[tokio::test]
async fn a_token_works_in_each_place_the_sdks_put_it() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let user = UserId::new();
    let token = gateway.token(user);
    let places: [(&'static str, String); 3] = [
        ("authorization", format!("Bearer {token}")),
        ("xi-api-key", token.clone()),
        ("sec-websocket-protocol", format!("convai, bearer.{token}")),
    ];
    for (header, value) in places {
        let (mut ws, protocol) =
            connect(request(&gateway.ws_url(AGENT), &[(header, &value)])).await;
        if header == "sec-websocket-protocol" {
            assert_eq!(protocol.as_deref(), Some("convai"), "only convai is echoed");
        }
        send(&mut ws, INITIATION).await;
        let mut session = next_session(&mut sessions).await;
        assert_eq!(session.request.user_id, user, "{header}");
        assert_eq!(session.request.agent_id.as_str(), AGENT);
        assert_eq!(session.next().await, Inbound::Text(INITIATION.into()));
        ws.close(None).await.expect("close");
    }
}

#[tokio::test]
async fn the_convai_subprotocol_is_echoed_when_requested() {
    let gateway = TestGateway::start().await;
    let _sessions = accepting_session(&gateway.nats.url()).await;
    let token = gateway.token(UserId::new());
    let (_ws, protocol) = connect(request(
        &gateway.ws_url(AGENT),
        &[("sec-websocket-protocol", "convai"), ("xi-api-key", &token)],
    ))
    .await;
    assert_eq!(protocol.as_deref(), Some("convai"));
    let (_ws, protocol) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", &token)])).await;
    assert_eq!(protocol, None, "nothing requested, nothing echoed");
}

#[tokio::test]
async fn no_credential_closes_with_1008() {
    let gateway = TestGateway::start().await;
    let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[])).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1008, "authentication required".into())
    );
}

#[tokio::test]
async fn bad_expired_foreign_and_unsigned_tokens_close_with_1008() {
    let gateway = TestGateway::start().await;
    let user = UserId::new();
    let expired = issue_token(&gateway.secret, user, Role::User, Duration::ZERO);
    let foreign = issue_token(
        &JwtSecret::random(),
        user,
        Role::User,
        Duration::from_secs(300),
    );
    let unsigned = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(format!(
            r#"{{"sub":"{user}","role":"admin","exp":4102444800}}"#
        ))
    );
    let cases = [
        ("garbage", "invalid token: not a JWT"),
        (expired.as_str(), "invalid token: expired"),
        (foreign.as_str(), "invalid token: signature does not match"),
        (
            unsigned.as_str(),
            "invalid token: algorithm `none` is not accepted (HS256, RS256 or ES256)",
        ),
    ];
    for (token, reason) in cases {
        let (mut ws, _) = connect(request(&gateway.ws_url(AGENT), &[("xi-api-key", token)])).await;
        assert_eq!(closed_with(&mut ws).await, (1008, reason.to_owned()));
    }
}

#[tokio::test]
async fn a_missing_agent_closes_with_1008() {
    let gateway = TestGateway::start().await;
    let token = gateway.token(UserId::new());
    let url = format!("ws://{}/v1/convai/conversation", gateway.addr);
    let (mut ws, _) = connect(request(&url, &[("xi-api-key", &token)])).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1008, "agent_id is required".into())
    );
}

#[tokio::test]
async fn plain_http_gets_problem_json() {
    let gateway = TestGateway::start().await;
    let http = reqwest::Client::new();
    let response = http
        .get(gateway.http_url("/v1/convai/conversation?agent_id=agent_test"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.expect("json");
    assert_eq!(problem["status"], 401);
    assert_eq!(problem["title"], "Unauthorized");
    assert_eq!(problem["detail"], "authentication required");
    assert_eq!(problem["type"], "urn:parlor:problem:unauthorized");

    let token = gateway.token(UserId::new());
    let response = http
        .get(gateway.http_url("/v1/convai/conversation?agent_id=agent_test"))
        .header("xi-api-key", &token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 426);
    let response = http
        .get(gateway.http_url("/v1/convai/conversation?agent_id=a.b"))
        .header("xi-api-key", &token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
}
