//! The seed's transcript save (`POST /api/transcription`) and ElevenLabs'
//! webhooks (`POST /webhooks/elevenlabs`) through the whole stack: each
//! fact recorded once, however often or however many ways it arrives.

use std::time::Duration;

use chrono::Utc;
use elevenlabs_sim::SimEvent;
use events::conversation::ConversationMode;
use events::{ConversationEvent, ConversationId};
use gateway::chat::ChatConfig;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::api_chat::{answer, post, post_raw};
use super::harness::{DEADLINE, E2e, Setup};

/// `t=<secs>,v0=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as ElevenLabs signs.
fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v0={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// POSTs a webhook body with `signature` (none when empty).
async fn webhook(e2e: &E2e, signature: &str, body: &[u8]) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhooks/elevenlabs", e2e.gateway_http()))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if !signature.is_empty() {
        request = request.header("ElevenLabs-Signature", signature);
    }
    answer(request).await
}

/// A well-signed webhook of `kind` carrying `data`.
async fn signed(e2e: &E2e, kind: &str, data: &Value) -> (StatusCode, Value) {
    let body = json!({"type": kind, "event_timestamp": Utc::now().timestamp(), "data": data})
        .to_string()
        .into_bytes();
    let header = signature(&e2e.webhook_secret, Utc::now().timestamp(), &body);
    webhook(e2e, &header, &body).await
}

async fn events_of(e2e: &E2e, id: ConversationId) -> Vec<ConversationEvent> {
    e2e.store
        .load::<ConversationEvent>(id)
        .await
        .expect("load")
        .events
        .into_iter()
        .map(|s| s.envelope.event)
        .collect()
}

fn count(events: &[ConversationEvent], kind: fn(&ConversationEvent) -> bool) -> usize {
    events.iter().filter(|e| kind(e)).count()
}

fn is_cost(e: &ConversationEvent) -> bool {
    matches!(e, ConversationEvent::CostReported(_))
}

fn is_analysis(e: &ConversationEvent) -> bool {
    matches!(e, ConversationEvent::AnalysisReported(_))
}

#[tokio::test]
async fn a_signed_webhook_sent_twice_beside_the_sessions_own_fetch_records_once() {
    let e2e = E2e::assemble(Setup {
        sim_webhooks: true,
        chat: ChatConfig {
            idle: Duration::from_millis(500),
            ..ChatConfig::default()
        },
        ..Setup::default()
    })
    .await;
    let (_, token) = e2e.user(10_000).await;
    let mut sim_events = e2e.sim.subscribe();
    let body = json!({"agentId": e2e.sim.default_agent_id(), "message": "hello"});
    let (status, chat) = post(&e2e, "/api/agent", &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{chat}");
    let id: ConversationId = chat["conversationId"]
        .as_str()
        .expect("id")
        .parse()
        .expect("ObjectId");
    let events = e2e.events_until(id, is_cost).await;
    let elevenlabs_id = events
        .iter()
        .find_map(|e| match e {
            ConversationEvent::Started(s) => Some(s.elevenlabs_conversation_id.clone()),
            _ => None,
        })
        .expect("started");
    // The simulator's own delivery of the same record.
    tokio::time::timeout(DEADLINE, async {
        loop {
            match sim_events.recv().await {
                Ok(SimEvent::WebhookDelivered {
                    conversation_id, ..
                }) if conversation_id == elevenlabs_id => return,
                Ok(SimEvent::WebhookFailed { error, .. }) => panic!("webhook failed: {error}"),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(error) => panic!("simulator events: {error}"),
            }
        }
    })
    .await
    .expect("the simulator delivered its webhook");
    e2e.document_of(&elevenlabs_id, |_| true).await;
    let record = e2e.sim.conversation(&elevenlabs_id).expect("the record");
    for _ in 0..2 {
        let (status, answer) = signed(&e2e, "post_call_transcription", &record).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "duplicate", "already in the log");
    }
    let events = e2e.events_until(id, is_analysis).await;
    assert_eq!(count(&events, is_cost), 1, "{events:#?}");
    assert_eq!(count(&events, is_analysis), 1, "{events:#?}");
    e2e.stop().await;
}

#[tokio::test]
async fn a_client_side_transcript_is_saved_once_and_confirmed_by_a_signed_webhook() {
    let e2e = E2e::start().await;
    let (user, alice) = e2e.user(10_000).await;
    let (_, bob) = e2e.user(10_000).await;
    let elevenlabs_id = format!("conv_client{}", ConversationId::new());
    let derived = {
        let digest = Sha256::digest(elevenlabs_id.as_bytes());
        ConversationId::from_bytes(digest[..12].try_into().expect("12 bytes"))
    };
    let started = Utc::now() - chrono::Duration::seconds(90);
    let ended = started + chrono::Duration::seconds(60);
    let body = json!({
        "conversationId": elevenlabs_id,
        "agentId": e2e.sim.default_agent_id(),
        "startedAt": started.to_rfc3339(),
        "endedAt": ended.to_rfc3339(),
        "messages": [
            {"role": "agent", "message": "Hi there", "timeInCallSecs": 0},
            {"role": "user", "message": "Hello", "timeInCallSecs": 2.5},
        ],
        "metrics": {"messageCount": 2},
        "status": "done",
    });
    let (status, first) = post(&e2e, "/api/transcription", &alice, &body).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["conversationId"], derived.to_string());
    let (status, again) = post(&e2e, "/api/transcription", &alice, &body).await;
    assert_eq!(
        (status, &again),
        (StatusCode::OK, &first),
        "the same answer"
    );
    let (status, _) = post(&e2e, "/api/transcription", &bob, &body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another user's conversation");
    let events = events_of(&e2e, derived).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    assert!(matches!(
        &events[0],
        ConversationEvent::Requested(r) if r.mode == ConversationMode::ClientSide
    ));
    assert!(
        matches!(&events[1], ConversationEvent::TranscriptSubmitted(t)
        if t.duration_ms == 60_000 && t.messages.len() == 2)
    );
    let balance = e2e
        .settled_balance(user, |b| b.available.get() < 10_000)
        .await;
    assert_eq!(
        balance.available.get(),
        10_000 - 400,
        "a minute at 400 per minute"
    );
    e2e.document_where(
        mongodb::bson::doc! {"_id": mongodb::bson::oid::ObjectId::from_bytes(derived.bytes())},
        |d| d.get_str("transcript").is_ok_and(|t| t.contains("Hello")),
    )
    .await;

    let report = json!({
        "agent_id": e2e.sim.default_agent_id(),
        "conversation_id": elevenlabs_id,
        "status": "done",
        "transcript": [],
        "metadata": {"start_time_unix_secs": started.timestamp(), "call_duration_secs": 60, "cost": 450},
        "analysis": {"call_successful": "success", "transcript_summary": "A short chat."},
    });
    let body = json!({"type": "post_call_transcription", "event_timestamp": Utc::now().timestamp(), "data": report})
        .to_string()
        .into_bytes();
    let now = Utc::now().timestamp();
    let wrong = signature("not the secret", now, &body);
    let stale = signature(&e2e.webhook_secret, now - 3_600, &body);
    for (header, why) in [
        ("", "no signature"),
        (wrong.as_str(), "wrong secret"),
        (stale.as_str(), "stale"),
        ("t=1,v0=zz", "garbled"),
    ] {
        let (status, problem) = webhook(&e2e, header, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {problem}");
    }
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let (status, _) = webhook(&e2e, &signature(&e2e.webhook_secret, now, &body), &tampered).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a body that is not what was signed"
    );
    assert_eq!(events_of(&e2e, derived).await.len(), 2, "nothing recorded");

    let (status, answer) = signed(&e2e, "post_call_transcription", &report).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (StatusCode::OK, Some("recorded"))
    );
    let (status, answer) = signed(&e2e, "post_call_transcription", &report).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (StatusCode::OK, Some("duplicate")),
        "a retry"
    );
    let events = events_of(&e2e, derived).await;
    assert_eq!(
        (count(&events, is_cost), count(&events, is_analysis)),
        (1, 1),
        "{events:#?}"
    );
    let balance = e2e
        .settled_balance(user, |b| b.available.get() == 10_000 - 450)
        .await;
    assert_eq!(balance.held.get(), 0, "adjusted to ElevenLabs' figure");

    let unknown = json!({"agent_id": "a", "conversation_id": "conv_nobody", "status": "done"});
    let (status, answer) = signed(&e2e, "post_call_transcription", &unknown).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (StatusCode::OK, Some("ignored"))
    );
    let audio = json!({"agent_id": "a", "conversation_id": elevenlabs_id, "full_audio": "AAAA"});
    let (status, answer) = signed(&e2e, "post_call_audio", &audio).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (StatusCode::OK, Some("ignored"))
    );
    let junk = b"not json".to_vec();
    let header = signature(&e2e.webhook_secret, now, &junk);
    let (status, _) = webhook(&e2e, &header, &junk).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "verified but not an envelope"
    );
    e2e.stop().await;
}

#[tokio::test]
async fn the_transcript_save_refuses_bad_input() {
    let e2e = E2e::start().await;
    let (_, token) = e2e.user(1_000).await;
    let agent = e2e.sim.default_agent_id().to_owned();
    let now = Utc::now();
    let valid = json!({
        "conversationId": ConversationId::new().to_string(),
        "agentId": agent,
        "startedAt": (now - chrono::Duration::seconds(10)).to_rfc3339(),
        "endedAt": now.to_rfc3339(),
        "messages": [],
    });
    let (status, _) = post(&e2e, "/api/transcription", "", &valid).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post_raw(
        &e2e,
        "/api/transcription",
        &token,
        b"{\"conversationId\":".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let many: Vec<Value> = (0..2_001)
        .map(|_| json!({"role": "user", "message": "x"}))
        .collect();
    for (body, expected, why) in [
        (
            with("extra", json!(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field",
        ),
        (
            with(
                "startedAt",
                json!((now + chrono::Duration::seconds(5)).to_rfc3339()),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "starts after it ends",
        ),
        (
            with("endedAt", json!("yesterday")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a time",
        ),
        (
            with("messages", json!([{"role": "robot", "message": "x"}])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad role",
        ),
        (
            with(
                "messages",
                json!([{"role": "user", "message": "x", "timeInCallSecs": -1}]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "negative time",
        ),
        (
            with("messages", json!(many)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too many lines",
        ),
        (
            with("messages", json!("none")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong type",
        ),
        (
            with("conversationId", json!("conv_a.b")),
            StatusCode::BAD_REQUEST,
            "bad id",
        ),
        (
            with("agentId", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad agent",
        ),
        (
            with(
                "endedAt",
                json!((now + chrono::Duration::hours(1)).to_rfc3339()),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ends in the future",
        ),
        (
            with("metadata", json!("x".repeat(300 * 1024))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "oversized",
        ),
    ] {
        let (status, problem) = post(&e2e, "/api/transcription", &token, &body).await;
        assert_eq!(status, expected, "{why}: {problem}");
    }
    e2e.stop().await;
}
