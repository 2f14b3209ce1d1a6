//! The seed's text chat (`POST /api/agent`), its signed URL and live
//! updates (`GET /api/conversations/{id}/live`) through the whole stack.

use std::time::Duration;

use events::conversation::EndReason;
use events::{ConversationEvent, ConversationId};
use futures::StreamExt;
use gateway::chat::ChatConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::harness::{DEADLINE, E2e, Setup};

/// Short, so the idle end is seen quickly; far above the simulator's turn
/// latency, so no turn of a test is cut by it.
const IDLE: Duration = Duration::from_millis(1_500);
/// `PARLOR_CREDITS_PER_MESSAGE`'s default.
const CREDITS_PER_MESSAGE: i64 = 14;

async fn chat_stack() -> E2e {
    E2e::assemble(Setup {
        chat: ChatConfig {
            idle: IDLE,
            ..ChatConfig::default()
        },
        ..Setup::default()
    })
    .await
}

/// POSTs JSON to the gateway with `token` (none when empty).
pub async fn post(e2e: &E2e, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", e2e.gateway_http()))
        .json(body);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    answer(request).await
}

/// Sends `request` and reads its JSON (a problem's content type checked).
pub async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("gateway answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        assert_eq!(content_type, "application/problem+json", "{status} {body}");
        assert_eq!(body["status"], status.as_u16(), "{body}");
    }
    (status, body)
}

/// POSTs raw bytes as JSON.
pub async fn post_raw(e2e: &E2e, path: &str, token: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let request = reqwest::Client::new()
        .post(format!("{}{path}", e2e.gateway_http()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body);
    answer(request).await
}

fn message(e2e: &E2e, text: &str, conversation: Option<&str>) -> Value {
    let mut body = json!({"agentId": e2e.sim.default_agent_id(), "message": text});
    if let Some(id) = conversation {
        body["conversationId"] = json!(id);
    }
    body
}

#[tokio::test]
async fn a_text_chat_of_several_turns_is_charged_per_message_and_ends_when_idle() {
    let e2e = chat_stack().await;
    let (user, token) = e2e.user(10_000).await;
    let (status, first) = post(&e2e, "/api/agent", &token, &message(&e2e, "hello", None)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        first["reply"], "You said: hello",
        "the greeting is not the reply"
    );
    assert_eq!(first["status"], "in-progress");
    let id = first["conversationId"].as_str().expect("an id").to_owned();
    for text in ["how are you", "tell me more"] {
        let (status, turn) =
            post(&e2e, "/api/agent", &token, &message(&e2e, text, Some(&id))).await;
        assert_eq!(status, StatusCode::OK, "{turn}");
        assert_eq!(turn["conversationId"], id.as_str());
        assert_eq!(turn["reply"], format!("You said: {text}"));
    }
    let conversation: ConversationId = id.parse().expect("an ObjectId");
    let events = e2e
        .events_until(conversation, |e| matches!(e, ConversationEvent::Ended(_)))
        .await;
    let ended = events.iter().find_map(|e| match e {
        ConversationEvent::Ended(ended) => Some(ended),
        _ => None,
    });
    let ended = ended.expect("ended");
    assert_eq!(ended.reason, EndReason::UserEnded, "idle closes normally");
    assert_eq!(ended.close_code, Some(1000));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ConversationEvent::Started(s) if s.text_only)),
        "a text-only call"
    );
    let messages = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                ConversationEvent::UserMessage(_) | ConversationEvent::AgentMessage(_)
            )
        })
        .count();
    assert_eq!(
        messages, 7,
        "a greeting, then three turns of two: {events:#?}"
    );
    let balance = e2e
        .settled_balance(user, |b| b.held.get() == 0 && b.available.get() < 10_000)
        .await;
    assert_eq!(
        balance.available.get(),
        10_000 - CREDITS_PER_MESSAGE * 7,
        "charged per message, not per minute"
    );
    let (status, problem) = post(
        &e2e,
        "/api/agent",
        &token,
        &message(&e2e, "again", Some(&id)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    e2e.stop().await;
}

#[tokio::test]
async fn live_events_follow_a_chat_through_the_gateway_until_it_ends() {
    let e2e = chat_stack().await;
    let (_, token) = e2e.user(10_000).await;
    let (status, first) = post(&e2e, "/api/agent", &token, &message(&e2e, "hello", None)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let id = first["conversationId"].as_str().expect("an id").to_owned();
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/conversations/{id}/live",
            e2e.gateway_http()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sse");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
    );
    // A message sent while the stream is open arrives on it too.
    let (status, _) = post(
        &e2e,
        "/api/agent",
        &token,
        &message(&e2e, "live one", Some(&id)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = tokio::time::timeout(DEADLINE, read_sse(response))
        .await
        .expect("the stream ends after the terminal event");
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"status"), "{names:?}");
    assert_eq!(names.last(), Some(&"ended"), "{names:?}");
    let mut said: Vec<&str> = events
        .iter()
        .filter(|(name, _)| name == "message")
        .filter_map(|(_, data)| data["message"].as_str())
        .collect();
    // The greeting and the first message race into the log.
    let greeting = said
        .iter()
        .position(|m| *m == "Hi! How can I help you today?");
    said.remove(greeting.expect("the greeting"));
    assert_eq!(
        said,
        ["hello", "You said: hello", "live one", "You said: live one"]
    );
    assert_eq!(
        events.last().map(|(_, d)| d["status"].clone()),
        Some(json!("processing"))
    );
    e2e.stop().await;
}

/// Reads a server-sent event stream to its end: (event name, JSON data).
async fn read_sse(response: reqwest::Response) -> Vec<(String, Value)> {
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while let Some(chunk) = body.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.expect("a chunk")));
    }
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data = serde_json::from_str(value.trim()).ok();
                }
            }
            Some((name?, data?))
        })
        .collect()
}

#[tokio::test]
async fn the_chat_refuses_bad_input_strangers_and_users_without_credits() {
    let e2e = E2e::start().await;
    let (_, alice) = e2e.user(10_000).await;
    let (_, bob) = e2e.user(10_000).await;
    let (_, broke) = e2e.user(0).await;
    let agent = e2e.sim.default_agent_id().to_owned();

    let (status, _) = post(&e2e, "/api/agent", "", &message(&e2e, "hi", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post_raw(&e2e, "/api/agent", &alice, b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for (body, why) in [
        (json!({"agentId": agent, "message": 5}), "wrong type"),
        (json!({"agentId": agent}), "missing message"),
        (
            json!({"agentId": agent, "message": "hi", "extra": 1}),
            "unknown field",
        ),
        (json!({"agentId": "a.b", "message": "hi"}), "bad agent id"),
        (
            json!({"agentId": agent, "message": "hi", "conversationId": "nope"}),
            "bad id",
        ),
        (json!({"agentId": agent, "message": "   "}), "empty message"),
        (
            json!({"agentId": agent, "message": "x".repeat(20_000)}),
            "long message",
        ),
    ] {
        let (status, problem) = post(&e2e, "/api/agent", &alice, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {problem}");
    }
    let huge = json!({"agentId": agent, "message": "x".repeat(300 * 1024)});
    let (status, _) = post(&e2e, "/api/agent", &alice, &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, problem) = post(&e2e, "/api/agent", &broke, &message(&e2e, "hi", None)).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "refused for credits: {problem}"
    );

    let (status, first) = post(&e2e, "/api/agent", &alice, &message(&e2e, "hello", None)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let id = first["conversationId"].as_str().expect("an id").to_owned();
    let (status, _) = post(&e2e, "/api/agent", &bob, &message(&e2e, "mine?", Some(&id))).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another user's chat is not there"
    );
    let unknown = ConversationId::new().to_string();
    let (status, _) = post(
        &e2e,
        "/api/agent",
        &alice,
        &message(&e2e, "hi", Some(&unknown)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let live = |token: &str, id: &str| {
        let mut request = reqwest::Client::new().get(format!(
            "{}/api/conversations/{id}/live",
            e2e.gateway_http()
        ));
        if !token.is_empty() {
            request = request.bearer_auth(token.to_owned());
        }
        request.send()
    };
    for (token, target, expected) in [
        ("", id.as_str(), StatusCode::UNAUTHORIZED),
        (bob.as_str(), id.as_str(), StatusCode::NOT_FOUND),
        (alice.as_str(), "not-an-id", StatusCode::BAD_REQUEST),
        (alice.as_str(), unknown.as_str(), StatusCode::NOT_FOUND),
    ] {
        let response = live(token, target).await.expect("answer");
        assert_eq!(response.status(), expected, "{target}");
    }

    let url = |query: &str| format!("{}/api/agent/signed-url{query}", e2e.gateway_http());
    let (status, signed) = answer(
        reqwest::Client::new()
            .get(url(&format!("?agentId={agent}")))
            .bearer_auth(&alice),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    let signed_url = signed["signedUrl"].as_str().expect("signedUrl");
    assert!(
        signed_url.contains("conversation_signature="),
        "{signed_url}"
    );
    assert_eq!(signed["signed_url"], signed_url);
    for (query, token, expected) in [
        ("", alice.as_str(), StatusCode::BAD_REQUEST),
        ("?agentId=a.b", alice.as_str(), StatusCode::BAD_REQUEST),
        ("?agent_id=x", alice.as_str(), StatusCode::BAD_REQUEST),
    ] {
        let (status, _) = answer(reqwest::Client::new().get(url(query)).bearer_auth(token)).await;
        assert_eq!(status, expected, "{query}");
    }
    let (status, _) = answer(reqwest::Client::new().get(url(&format!("?agentId={agent}")))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    e2e.stop().await;
}
