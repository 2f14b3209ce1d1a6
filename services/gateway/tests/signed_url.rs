//! The signed-URL flow as ElevenLabs' SDKs drive it: a backend asks
//! `get-signed-url` with its key, the client connects to the URL unchanged
//! (plus the SDK's `source`/`version`), and the URL works once.

mod support;

use events::UserId;
use support::{
    INITIATION, Inbound, TestGateway, accepting_session, closed_with, connect, next_session,
    request, send,
};

async fn signed_url(gateway: &TestGateway, agent: &str, key: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .get(gateway.http_url(&format!(
            "/v1/convai/conversation/get-signed-url?agent_id={agent}"
        )))
        .header("xi-api-key", key)
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
async fn a_signed_url_opens_one_conversation_then_is_used_up() {
    let gateway = TestGateway::start().await;
    let mut sessions = accepting_session(&gateway.nats.url()).await;
    let user = UserId::new();
    let url = signed_url(&gateway, "agent_signed", &gateway.token(user)).await;
    let prefix = format!(
        "ws://{}/v1/convai/conversation?agent_id=agent_signed&conversation_signature=",
        gateway.addr
    );
    assert!(url.starts_with(&prefix), "{url}");

    let sdk_url = format!("{url}&source=js_sdk&version=x");
    let (mut ws, protocol) =
        connect(request(&sdk_url, &[("sec-websocket-protocol", "convai")])).await;
    assert_eq!(protocol.as_deref(), Some("convai"));
    send(&mut ws, INITIATION).await;
    let mut session = next_session(&mut sessions).await;
    assert_eq!(session.request.user_id, user);
    assert_eq!(session.request.agent_id.as_str(), "agent_signed");
    assert_eq!(session.next().await, Inbound::Text(INITIATION.into()));

    let (mut again, _) = connect(request(&sdk_url, &[])).await;
    assert_eq!(
        closed_with(&mut again).await,
        (1008, "conversation signature already used".into())
    );
}

#[tokio::test]
async fn a_signature_is_bound_to_its_agent() {
    let gateway = TestGateway::start().await;
    let url = signed_url(&gateway, "agent_a", &gateway.token(UserId::new())).await;
    let other = url.replace("agent_id=agent_a", "agent_id=agent_b");
    let (mut ws, _) = connect(request(&other, &[])).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1008, "invalid conversation signature".into())
    );
}

#[tokio::test]
async fn signing_needs_a_token_and_an_agent() {
    let gateway = TestGateway::start().await;
    let http = reqwest::Client::new();
    let url = gateway.http_url("/v1/convai/conversation/get-signed-url?agent_id=agent_a");
    let response = http.get(&url).send().await.expect("request");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let token = gateway.token(UserId::new());
    let response = http
        .get(gateway.http_url("/v1/convai/conversation/get-signed-url"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let problem: serde_json::Value = response.json().await.expect("json");
    assert_eq!(problem["detail"], "agent_id is required");
}

#[tokio::test]
async fn behind_a_tls_proxy_the_url_is_wss_on_the_public_host() {
    let gateway = TestGateway::start().await;
    let body: serde_json::Value = reqwest::Client::new()
        .get(gateway.http_url("/v1/convai/conversation/get_signed_url?agent_id=agent_a"))
        .bearer_auth(gateway.token(UserId::new()))
        .header("host", "voice.example.com")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let url = body["signed_url"].as_str().expect("signed_url");
    assert!(
        url.starts_with("wss://voice.example.com/v1/convai/conversation?agent_id=agent_a&conversation_signature="),
        "{url}"
    );
}
