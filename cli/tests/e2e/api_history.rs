//! The conversation read routes over real calls: users A and B talk to the
//! simulated agent through the gateway, then read their history through
//! `GET /api/conversations[/{id}]`, `GET /api/agents/{agentId}/stats` and
//! the ElevenLabs-compatible `GET /v1/convai/conversations[/{id}]`, the
//! latter also with ElevenLabs' official Python SDK. Each sees only their
//! own; admin sees all; bad input is a 4xx problem+json.

use std::collections::HashSet;
use std::process::Output;
use std::time::Duration;

use elevenlabs::{ClientMessage, ServerEvent};
use events::UserId;
use gateway::Role;
use mongodb::bson::doc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::python::PythonEnv;

use super::harness::E2e;
use super::shape::status_is;

const SDK: &str = "elevenlabs>=2,<3";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/history.py");
const GRANT: i64 = 10_000;

/// One text-only call in which the user says `line`; ElevenLabs' id of it,
/// once its document is done (cost and analysis reported).
pub(super) async fn call_saying(e2e: &E2e, token: &str, line: &str) -> String {
    let init = json!({"conversation_config_override": {"conversation": {"text_only": true}}});
    let mut call = e2e.connect(token, init).await.expect("connected");
    let id = call.conversation_id().to_owned();
    let mut replies = 0;
    while let Some(event) = call.next_event().await {
        if let ServerEvent::AgentResponse(_) = event {
            replies += 1;
            if replies == 1 {
                call.send(ClientMessage::user_message(line))
                    .await
                    .expect("send");
            } else {
                break;
            }
        }
    }
    call.close().await.expect("closed");
    e2e.document_of(&id, |d| {
        status_is("done")(d)
            && d.get_document("metadata")
                .is_ok_and(|m| m.contains_key("analysis"))
    })
    .await;
    id
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Option<String>, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.json().await.unwrap_or(Value::Null);
        (status, content_type, body)
    }

    async fn ok(&self, token: &str, path: &str) -> Value {
        let (status, _, body) = self.get(Some(token), path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// A refusal with `status`, as problem+json.
    async fn problem(&self, token: Option<&str>, path: &str, status: StatusCode) {
        let (got, content_type, body) = self.get(token, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(body["status"], status.as_u16(), "{path}: {body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{path}: {body}"
        );
    }
}

fn ids_of(page: &Value, key: &str) -> Vec<String> {
    page["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| c[key].as_str().expect("id").to_owned())
        .collect()
}

fn token(e2e: &E2e, role: Role) -> String {
    gateway::issue_token(&e2e.secret, UserId::new(), role, Duration::from_secs(3600))
}

#[tokio::test]
async fn each_user_reads_only_their_own_history_through_both_apis() {
    let e2e = E2e::start().await;
    let (user_a, token_a) = e2e.user(GRANT).await;
    let (_, token_b) = e2e.user(GRANT).await;
    let lines_a = ["apples are great", "bananas please", "cherries thanks"];
    let mut calls_a = Vec::new();
    for line in lines_a {
        calls_a.push(call_saying(&e2e, &token_a, line).await);
    }
    let call_b = call_saying(&e2e, &token_b, "durian is terrible").await;
    let api = Api {
        http: reqwest::Client::new(),
        base: e2e.gateway_http(),
    };
    let agent = e2e.sim.default_agent_id();

    // The dashboard list: A's three, newest first, in the Prisma types.
    let page = api.ok(&token_a, "/api/conversations").await;
    assert_eq!(page["has_more"], false);
    assert!(page["next_cursor"].is_null());
    let items = page["conversations"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{page}");
    let newest_first: Vec<&str> = calls_a.iter().rev().map(String::as_str).collect();
    let listed: Vec<&str> = items
        .iter()
        .map(|i| i["elevenlabsConversationId"].as_str().expect("conv id"))
        .collect();
    assert_eq!(listed, newest_first);
    for item in items {
        assert_eq!(item["userId"], user_a.to_string());
        assert_eq!(item["agentId"], agent);
        assert_eq!(item["status"], "done");
        assert_eq!(item["id"].as_str().map(str::len), Some(24));
        assert!(item["duration"].is_i64(), "{item}");
        assert!(item["cost"].is_f64() || item["cost"].is_i64(), "{item}");
        assert!(item["cost"].as_f64().is_some_and(|c| c >= 0.0), "{item}");
        for time in ["startedAt", "endedAt"] {
            let text = item[time].as_str().expect("time");
            assert!(
                chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                "{time}: {text}"
            );
        }
        for metric in ["totalLatency", "messageCount"] {
            assert!(item["metrics"][metric].is_i64(), "{metric}: {item}");
        }
        for metric in ["averageLatency", "creditsUsed", "costPerMinute"] {
            assert!(item["metrics"][metric].is_number(), "{metric}: {item}");
        }
        assert_eq!(item["sentiment"]["source"], "lexicon", "{item}");
    }

    // Paging one and two at a time: every conversation once, in order.
    for size in [1, 2] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let path = match &cursor {
                Some(c) => format!("/api/conversations?page_size={size}&cursor={c}"),
                None => format!("/api/conversations?page_size={size}"),
            };
            let page = api.ok(&token_a, &path).await;
            seen.extend(ids_of(&page, "elevenlabsConversationId"));
            if page["has_more"] == false {
                assert!(page["next_cursor"].is_null());
                break;
            }
            cursor = page["next_cursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, newest_first, "page_size {size}");
    }

    // Filters: text in what was said, agent, status, time range, user.
    let found = api.ok(&token_a, "/api/conversations?q=BANANAS").await;
    assert_eq!(
        ids_of(&found, "elevenlabsConversationId"),
        [calls_a[1].as_str()]
    );
    let found = api.ok(&token_a, "/api/conversations?q=durian").await;
    assert_eq!(
        ids_of(&found, "id").len(),
        0,
        "B's words are not in A's list"
    );
    let found = api
        .ok(&token_a, "/api/conversations?agentId=agent_nobody")
        .await;
    assert_eq!(ids_of(&found, "id").len(), 0);
    let found = api
        .ok(
            &token_a,
            &format!("/api/conversations?agentId={agent}&status=done"),
        )
        .await;
    assert_eq!(ids_of(&found, "id").len(), 3);
    let found = api.ok(&token_a, "/api/conversations?status=failed").await;
    assert_eq!(ids_of(&found, "id").len(), 0);
    let found = api
        .ok(&token_a, "/api/conversations?from=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(ids_of(&found, "id").len(), 0);
    let found = api
        .ok(
            &token_a,
            "/api/conversations?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(ids_of(&found, "id").len(), 3);

    // Admin sees everyone, and filters by user; finance everyone's as money.
    let admin = token(&e2e, Role::Admin);
    let all = api.ok(&admin, "/api/conversations").await;
    assert_eq!(ids_of(&all, "id").len(), 4);
    let of_a = api
        .ok(&admin, &format!("/api/conversations?userId={user_a}"))
        .await;
    assert_eq!(ids_of(&of_a, "id").len(), 3);
    let b_filters_a = api
        .ok(&token_b, &format!("/api/conversations?userId={user_a}"))
        .await;
    assert_eq!(ids_of(&b_filters_a, "id").len(), 0);
    let finance = token(&e2e, Role::Finance);
    let money = api.ok(&finance, "/api/conversations").await;
    assert_eq!(ids_of(&money, "id").len(), 4);
    for item in money["conversations"].as_array().expect("conversations") {
        assert!(item["sentiment"].is_null(), "{item}");
        assert!(item["cost"].is_number(), "{item}");
    }
    for search in [
        "/api/conversations?q=hello",
        "/api/exports/conversations?q=hello",
    ] {
        api.problem(Some(&finance), search, StatusCode::FORBIDDEN)
            .await;
    }

    // One conversation whole, by either id, with its ledger trail.
    let document = e2e
        .conversations
        .find_one(doc! { "metadata.elevenlabs_conversation_id": &calls_a[0] })
        .await
        .expect("find")
        .expect("document");
    let parlor_id = document.get_object_id("_id").expect("_id").to_hex();
    let by_parlor = api
        .ok(&token_a, &format!("/api/conversations/{parlor_id}"))
        .await;
    let by_elevenlabs = api
        .ok(&token_a, &format!("/api/conversations/{}", calls_a[0]))
        .await;
    assert_eq!(by_parlor["id"], by_elevenlabs["id"]);
    assert_eq!(by_parlor["messages"], by_elevenlabs["messages"]);
    assert_eq!(by_parlor["id"], parlor_id);
    let messages = by_parlor["messages"].as_array().expect("messages");
    assert!(
        messages
            .iter()
            .any(|m| m["role"] == "user" && m["message"] == lines_a[0]),
        "{by_parlor}"
    );
    for message in messages {
        assert!(message["timeInCallSecs"].is_i64(), "{message}");
        assert!(message["at"].as_str().is_some(), "{message}");
    }
    assert!(
        by_parlor["transcript"]
            .as_str()
            .is_some_and(|t| t.contains(lines_a[0]))
    );
    assert_eq!(
        by_parlor["analysis"]["call_successful"], "success",
        "{by_parlor}"
    );
    let with_ledger = super::harness::poll_until("the conversation's ledger trail", || async {
        let body = api
            .ok(&token_a, &format!("/api/conversations/{parlor_id}"))
            .await;
        body["ledger"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
            .then_some(body)
    })
    .await;
    let ledger = with_ledger["ledger"].as_array().expect("ledger");
    assert_eq!(
        ledger
            .iter()
            .map(|e| e["credits"].as_i64().expect("credits"))
            .sum::<i64>(),
        0,
        "every event's postings balance: {ledger:#?}"
    );
    assert!(
        ledger
            .iter()
            .any(|e| e["account"] == format!("user-{user_a}"))
    );
    assert_eq!(
        api.ok(&admin, &format!("/api/conversations/{parlor_id}"))
            .await["id"],
        parlor_id
    );
    for path in [
        format!("/api/conversations/{parlor_id}"),
        format!("/api/conversations/{}", calls_a[0]),
        format!("/v1/convai/conversations/{}", calls_a[0]),
    ] {
        api.problem(Some(&token_b), &path, StatusCode::NOT_FOUND)
            .await;
    }
    // Finance reads the call's money and ledger trail, nothing that was said.
    let money = api
        .ok(&finance, &format!("/api/conversations/{}", calls_a[0]))
        .await;
    assert_eq!(money["id"], parlor_id);
    assert!(
        money["ledger"].as_array().is_some_and(|l| !l.is_empty()),
        "{money}"
    );
    for said in [
        "transcript",
        "messages",
        "metadata",
        "analysis",
        "sentiment",
    ] {
        assert!(money[said].is_null(), "{said}: {money}");
    }
    assert!(!money.to_string().contains(lines_a[0]), "{money}");
    api.problem(
        Some(&finance),
        &format!("/v1/convai/conversations/{}", calls_a[0]),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Agent stats: a user's own figures; admin and finance everyone's.
    let own = api
        .ok(&token_a, &format!("/api/agents/{agent}/stats"))
        .await;
    assert_eq!(own["coverage"], "own");
    assert_eq!(own["calls"], 3);
    assert_eq!(own["successRate"], 1.0, "{own}");
    let everyone = poll_stats(&api, &admin, agent, 4).await;
    assert_eq!(everyone["coverage"], "all");
    assert!(everyone["latency"]["p50"].is_number());
    assert_eq!(
        api.ok(&finance, &format!("/api/agents/{agent}/stats"))
            .await["calls"],
        4
    );
    api.problem(
        Some(&token_a),
        "/api/agents/agent_nobody/stats",
        StatusCode::NOT_FOUND,
    )
    .await;
    api.problem(
        Some(&finance),
        "/api/agents/agent_nobody/stats",
        StatusCode::NOT_FOUND,
    )
    .await;

    // The ElevenLabs shapes over plain HTTP.
    let page = api
        .ok(
            &token_a,
            "/v1/convai/conversations?summary_mode=include&unknown_new_param=1",
        )
        .await;
    assert_eq!(ids_of(&page, "conversation_id"), newest_first);
    let first = &page["conversations"][0];
    assert_eq!(first["agent_id"], agent);
    assert_eq!(first["status"], "done");
    assert_eq!(first["call_successful"], "success");
    assert!(first["start_time_unix_secs"].is_i64());
    assert!(
        first["message_count"].as_i64().is_some_and(|n| n >= 2),
        "{first}"
    );
    assert!(first["transcript_summary"].is_string(), "{first}");
    let oldest = api
        .ok(
            &token_a,
            "/v1/convai/conversations?sort_direction=asc&page_size=1",
        )
        .await;
    assert_eq!(ids_of(&oldest, "conversation_id"), [calls_a[0].as_str()]);
    assert_eq!(oldest["has_more"], true);
    let found = api
        .ok(&token_a, "/v1/convai/conversations?search=cherries")
        .await;
    assert_eq!(ids_of(&found, "conversation_id"), [calls_a[2].as_str()]);
    let start = first["start_time_unix_secs"].as_i64().expect("start");
    let later = api
        .ok(
            &token_a,
            &format!("/v1/convai/conversations?call_start_after_unix={start}"),
        )
        .await;
    assert_eq!(ids_of(&later, "conversation_id").len(), 0);
    let earlier = api
        .ok(
            &token_a,
            &format!(
                "/v1/convai/conversations?call_start_before_unix={}",
                start + 1
            ),
        )
        .await;
    assert_eq!(ids_of(&earlier, "conversation_id"), newest_first);
    let detail = api
        .ok(
            &token_a,
            &format!("/v1/convai/conversations/{}", calls_a[0]),
        )
        .await;
    assert_eq!(detail["conversation_id"], calls_a[0].as_str());
    assert_eq!(detail["user_id"], user_a.to_string());
    assert!(detail["metadata"]["cost"].as_i64().is_some_and(|c| c >= 0));
    assert!(detail["metadata"]["call_duration_secs"].is_i64());
    assert_eq!(detail["has_audio"], false);
    assert!(
        detail["transcript"]
            .as_array()
            .expect("transcript")
            .iter()
            .any(|t| t["role"] == "user" && t["message"] == lines_a[0])
    );
    assert_eq!(
        api.ok(&token_a, &format!("/v1/convai/conversations/{parlor_id}"))
            .await["conversation_id"],
        calls_a[0].as_str()
    );

    // Bad input: 4xx problem+json, never a 500.
    for path in [
        "/api/conversations?cursor=garbage",
        "/api/conversations?page_size=0",
        "/api/conversations?page_size=101",
        "/api/conversations?page_size=abc",
        "/api/conversations?status=bogus",
        "/api/conversations?from=yesterday",
        "/api/conversations?q=",
        "/api/conversations?agent_id=typo",
        "/api/conversations/not-an-id",
        "/api/conversations/0123",
    ] {
        api.problem(Some(&token_a), path, StatusCode::BAD_REQUEST)
            .await;
    }
    for path in [
        "/v1/convai/conversations?cursor=garbage",
        "/v1/convai/conversations?page_size=0",
        "/v1/convai/conversations?page_size=101",
        "/v1/convai/conversations?page_size=abc",
        "/v1/convai/conversations?call_successful=maybe",
        "/v1/convai/conversations?call_start_before_unix=soon",
        "/v1/convai/conversations?summary_mode=all",
        "/v1/convai/conversations/not-an-id",
    ] {
        api.problem(Some(&token_a), path, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    api.problem(
        Some(&token_a),
        "/api/conversations/65f0a1b2c3d4e5f601234567",
        StatusCode::NOT_FOUND,
    )
    .await;
    for path in [
        "/api/conversations",
        "/api/conversations/65f0a1b2c3d4e5f601234567",
        "/api/agents/x/stats",
        "/v1/convai/conversations",
        "/v1/convai/conversations/conv_x",
    ] {
        api.problem(None, path, StatusCode::UNAUTHORIZED).await;
        api.problem(Some("not.a.token"), path, StatusCode::UNAUTHORIZED)
            .await;
    }

    python_sdk_reads(&e2e, &token_a, &calls_a, &call_b).await;
    e2e.stop().await;
}

/// The admin's stats once the projector's rollup counts `calls`.
async fn poll_stats(api: &Api, admin: &str, agent: &str, calls: i64) -> Value {
    super::harness::poll_until("the agent's rollup", || async {
        let (status, _, body) = api
            .get(Some(admin), &format!("/api/agents/{agent}/stats"))
            .await;
        (status == StatusCode::OK && body["calls"] == calls).then_some(body)
    })
    .await
}

/// ElevenLabs' Python SDK, unchanged, lists and gets A's conversations and
/// gets 404 for B's (skipped when python3 or PyPI is unavailable).
async fn python_sdk_reads(e2e: &E2e, token: &str, calls: &[String], foreign: &str) {
    let env = match tokio::task::spawn_blocking(|| PythonEnv::ensure("elevenlabs-sdk", &[SDK]))
        .await
        .expect("install task")
    {
        Ok(env) => env,
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("skipping the Python SDK history check: {error}");
            }
            return;
        }
    };
    let mut command = env.command();
    command.arg(SCRIPT).args([
        "--base-url",
        &e2e.gateway_http(),
        "--api-key",
        token,
        "--page-size",
        "2",
        "--foreign-id",
        foreign,
    ]);
    let output: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("script task")
        .expect("run the script");
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(
        output.status.success(),
        "script failed: {lines:#?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pages: Vec<&Value> = lines.iter().filter(|l| l["event"] == "page").collect();
    assert_eq!(pages.len(), 2, "3 conversations, 2 a page: {lines:#?}");
    let listed: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["ids"].as_array().expect("ids"))
        .map(|id| id.as_str().expect("id"))
        .collect();
    let newest_first: Vec<&str> = calls.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first);
    assert_eq!(listed.iter().collect::<HashSet<_>>().len(), 3);
    let got: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "conversation")
        .collect();
    assert_eq!(got.len(), 3);
    for conversation in got {
        assert_eq!(conversation["agent_id"], e2e.sim.default_agent_id());
        assert_eq!(conversation["status"], "done");
        assert_eq!(conversation["call_successful"], "success");
        assert!(conversation["cost"].as_i64().is_some_and(|c| c >= 0));
        assert_eq!(conversation["user_lines"].as_array().map(Vec::len), Some(1));
    }
    let foreign = lines
        .iter()
        .find(|l| l["event"] == "foreign")
        .expect("the foreign get");
    assert_eq!(foreign["status_code"], 404, "{foreign}");
    assert_eq!(foreign["body"]["status"], 404, "{foreign}");
}
