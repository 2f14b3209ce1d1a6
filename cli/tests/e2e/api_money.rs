//! The money and export routes through the whole stack: real calls are
//! charged and the cost, metrics, balance, reconciliation, entries and
//! exports agree with the ledger; who may see what; grants and
//! corrections once per idempotency key; bad input is a 4xx problem.

use std::time::Duration;

use elevenlabs::{ClientMessage, ServerEvent};
use events::{ConversationEvent, UserId};
use gateway::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::harness::{E2e, poll_until};
use super::shape::{id_of, reconciled, reported_credits};

const GRANT: i64 = 10_000;

/// Gateway HTTP calls with a token (or none).
struct Api {
    http: reqwest::Client,
    base: String,
}

/// A response's status, content type and body.
struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text);
        self.json()
    }

    fn is_problem(&self, status: u16) -> bool {
        self.status.as_u16() == status
            && self.content_type == "application/problem+json"
            && self.json()["status"] == status
    }
}

impl Api {
    fn new(e2e: &E2e) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: e2e.gateway_http(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, token: Option<&str>) -> Answer {
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("request");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = response.text().await.expect("body");
        Answer {
            status,
            content_type,
            text,
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.http.get(format!("{}{path}", self.base)), token)
            .await
    }

    async fn post(&self, path: &str, token: &str, key: Option<&str>, body: &Value) -> Answer {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send(request, Some(token)).await
    }

    /// Polls `path` until `ready` holds of its JSON.
    async fn get_until(&self, path: &str, token: &str, ready: impl Fn(&Value) -> bool) -> Value {
        poll_until(&format!("{path} to be ready"), || async {
            let answer = self.get(path, Some(token)).await;
            (answer.status == StatusCode::OK)
                .then(|| answer.json())
                .filter(|v| ready(v))
        })
        .await
    }
}

fn token(e2e: &E2e, role: Role) -> String {
    gateway::issue_token(&e2e.secret, UserId::new(), role, Duration::from_secs(3600))
}

/// A text call the agent ends after two answers; ElevenLabs' id.
async fn text_call(e2e: &E2e, token: &str) -> String {
    let init = json!({"conversation_config_override": {"conversation": {"text_only": true}}});
    let mut call = e2e.connect(token, init).await.expect("connected");
    let id = call.conversation_id().to_owned();
    let mut answers = 0;
    while let Some(event) = call.next_event().await {
        if let ServerEvent::AgentResponse(_) = event {
            answers += 1;
            let line = if answers == 1 { "hello" } else { "ok, bye" };
            if answers <= 2 {
                call.send(ClientMessage::user_message(line))
                    .await
                    .expect("send");
            }
        }
    }
    call.finish().await.expect("ended");
    id
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is a number"))
}

#[tokio::test]
async fn real_calls_are_charged_and_every_money_route_agrees_with_the_ledger() {
    let e2e = E2e::start().await;
    let api = Api::new(&e2e);
    let (user, user_token) = e2e.user(GRANT).await;
    let mut charged = 0;
    let mut documents = Vec::new();
    for _ in 0..2 {
        let elevenlabs_id = text_call(&e2e, &user_token).await;
        let first = e2e.document_of(&elevenlabs_id, |_| true).await;
        let events = e2e
            .events_until(id_of(&first), |e| {
                matches!(e, ConversationEvent::CostReported(_))
            })
            .await;
        let actual = reported_credits(&events);
        charged += actual;
        documents.push(e2e.document_of(&elevenlabs_id, reconciled(actual)).await);
    }
    e2e.settled_balance(user, |b| {
        b.held.get() == 0 && b.available.get() == GRANT - charged
    })
    .await;
    let seconds: i64 = documents
        .iter()
        .map(|d| i64::from(d.get_i32("duration").expect("duration")))
        .sum();
    let messages: i64 = documents
        .iter()
        .map(|d| {
            i64::from(
                d.get_document("metrics")
                    .expect("metrics")
                    .get_i32("messageCount")
                    .expect("count"),
            )
        })
        .sum();

    let cost_path = format!("/api/users/{user}/conversation-cost");
    let cost = api
        .get_until(&cost_path, &user_token, |c| {
            c["totals"]["conversations"] == 2 && number(&c["totals"]["credits"]) == charged as f64
        })
        .await;
    let totals = &cost["totals"];
    assert_eq!(totals["seconds"], seconds);
    assert_eq!(number(&totals["minutes"]), seconds as f64 / 60.0);
    let per_minute = number(&totals["costPerMinute"]);
    assert!(per_minute.is_finite());
    if seconds > 0 {
        assert!((per_minute - charged as f64 * 60.0 / seconds as f64).abs() < 1e-9);
    }
    assert!((number(&totals["money"]) - charged as f64 * 220.0 / 1e6).abs() < 1e-9);
    assert_eq!(cost["currency"], "USD");
    assert_eq!(cost["period"], "day");
    let periods = cost["periods"].as_array().expect("periods");
    let credits_by_period: f64 = periods.iter().map(|p| number(&p["credits"])).sum();
    assert_eq!(credits_by_period, charged as f64);
    for period in periods {
        assert!(number(&period["costPerMinute"]).is_finite());
    }
    let monthly = api
        .get(&format!("{cost_path}?period=month"), Some(&user_token))
        .await
        .ok();
    assert_eq!(monthly["totals"], cost["totals"]);

    let metrics = api
        .get(&format!("/api/users/{user}/metrics"), Some(&user_token))
        .await
        .ok();
    assert_eq!(metrics["messageCount"], messages);
    assert_eq!(number(&metrics["creditsUsed"]), charged as f64);
    assert!(number(&metrics["averageLatency"]) >= 0.0);
    assert!(number(&metrics["costPerMinute"]).is_finite());

    let balance = api
        .get(&format!("/api/users/{user}/balance"), Some(&user_token))
        .await
        .ok();
    assert_eq!(balance["available"], GRANT - charged);
    assert_eq!(balance["held"], 0);

    let finance = token(&e2e, Role::Finance);
    let report = api
        .get("/api/ledger/reconciliation", Some(&finance))
        .await
        .ok();
    assert_eq!(report["trial_balance"]["total"], 0);
    let mine = report["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["user_id"] == user.to_string())
        .expect("the user's sums");
    assert_eq!(mine["final_charge"], charged);
    assert_eq!(mine["conversations"], 2);

    let account = format!("user-{user}");
    let entries = api
        .get_until(
            &format!("/api/ledger/accounts/{account}/entries?page_size=100"),
            &finance,
            |page| {
                let sum: i64 = page["items"]
                    .as_array()
                    .map(|items| items.iter().filter_map(|e| e["credits"].as_i64()).sum())
                    .unwrap_or(0);
                sum == GRANT - charged
            },
        )
        .await;
    let items = entries["items"].as_array().expect("items");
    for entry in items {
        assert_eq!(entry["account"], account);
        assert!(entry["sequence"].as_i64().is_some_and(|s| s > 0), "{entry}");
    }
    assert!(
        items
            .iter()
            .any(|e| e["conversationId"].is_string() && e["causationId"].is_string()),
        "a charge names the event that caused it: {items:#?}"
    );

    let ledger_export = api
        .get("/api/exports/ledger?format=ndjson", Some(&user_token))
        .await;
    assert_eq!(ledger_export.status, StatusCode::OK);
    assert_eq!(ledger_export.content_type, "application/x-ndjson");
    let rows: Vec<Value> = ledger_export
        .text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(rows.iter().all(|r| r["account"] == account));
    let exported: i64 = rows.iter().filter_map(|r| r["credits"].as_i64()).sum();
    assert_eq!(exported, GRANT - charged);

    let conversations = api
        .get("/api/exports/conversations", Some(&user_token))
        .await;
    assert_eq!(conversations.content_type, "text/csv; charset=utf-8");
    let mut csv = csv::Reader::from_reader(conversations.text.as_bytes());
    let header = csv.headers().expect("header").clone();
    let records: Vec<csv::StringRecord> = csv.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 2);
    let cost_column = header
        .iter()
        .position(|h| h == "cost")
        .expect("cost column");
    let exported_cost: f64 = records
        .iter()
        .map(|r| r[cost_column].parse::<f64>().expect("cost"))
        .sum();
    assert_eq!(exported_cost, charged as f64);
    for (query, rows) in [("q=HELLO", 2), ("q=never%20said", 0), ("status=failed", 0)] {
        let filtered = api
            .get(
                &format!("/api/exports/conversations?format=ndjson&{query}"),
                Some(&user_token),
            )
            .await;
        assert_eq!(
            filtered.status,
            StatusCode::OK,
            "{query}: {}",
            filtered.text
        );
        assert_eq!(filtered.text.lines().count(), rows, "{query}");
    }
    e2e.stop().await;
}

#[tokio::test]
async fn each_role_sees_only_what_it_may_on_the_money_routes() {
    let e2e = E2e::start().await;
    let api = Api::new(&e2e);
    let (a, a_token) = e2e.user(500).await;
    let (b, b_token) = e2e.user(300).await;
    let finance = token(&e2e, Role::Finance);
    let admin = token(&e2e, Role::Admin);
    let a_account = format!("user-{a}");
    // The read model has A's account once the projector booked the grant.
    api.get_until(
        &format!("/api/ledger/accounts/{a_account}/entries"),
        &finance,
        |page| page["items"].as_array().is_some_and(|i| !i.is_empty()),
    )
    .await;

    let own_routes = [
        format!("/api/users/{a}/conversation-cost"),
        format!("/api/users/{a}/metrics"),
        format!("/api/users/{a}/balance"),
        format!("/api/exports/conversations?userId={a}"),
        format!("/api/exports/ledger?account={a_account}"),
    ];
    for path in &own_routes {
        assert!(
            api.get(path, None).await.is_problem(401),
            "{path} without a token"
        );
        assert!(
            api.get(path, Some("not-a-token")).await.is_problem(401),
            "{path} with a bad token"
        );
        for (who, token) in [("A", &a_token), ("finance", &finance), ("admin", &admin)] {
            let answer = api.get(path, Some(token)).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{who} on {path}: {}",
                answer.text
            );
        }
        let probe = api.get(path, Some(&b_token)).await;
        assert!(
            probe.is_problem(404),
            "B on {path}: {} {}",
            probe.status,
            probe.text
        );
    }
    let a_balance = api
        .get(&format!("/api/users/{a}/balance"), Some(&finance))
        .await
        .ok();
    assert_eq!(a_balance["available"], 500);

    let finance_routes = [
        "/api/ledger/accounts".to_owned(),
        format!("/api/ledger/accounts/{a_account}/entries"),
        "/api/ledger/reconciliation".to_owned(),
    ];
    for path in &finance_routes {
        assert!(
            api.get(path, None).await.is_problem(401),
            "{path} without a token"
        );
        assert!(
            api.get(path, Some("not-a-token")).await.is_problem(401),
            "{path} with a bad token"
        );
        assert!(
            api.get(path, Some(&a_token)).await.is_problem(403),
            "a user on {path}"
        );
        let bad_query = format!("{path}?page_size=0&from=never");
        assert!(
            api.get(&bad_query, Some(&a_token)).await.is_problem(403),
            "a user is refused before the query is read: {bad_query}"
        );
        api.get(path, Some(&finance)).await.ok();
        api.get(path, Some(&admin)).await.ok();
    }
    let accounts = api
        .get(
            "/api/ledger/accounts?kind=user&page_size=100",
            Some(&finance),
        )
        .await
        .ok();
    let ids: Vec<&str> = accounts["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["accountId"].as_str())
        .collect();
    assert!(ids.contains(&a_account.as_str()) && ids.contains(&format!("user-{b}").as_str()));

    for (path, body) in [
        (
            "/api/admin/grants",
            json!({"userId": b.to_string(), "credits": 5}),
        ),
        (
            "/api/admin/corrections",
            json!({"userId": b.to_string(), "credits": 5, "reason": "test"}),
        ),
    ] {
        for (who, token) in [("A", &a_token), ("finance", &finance)] {
            let refused = api.post(path, token, Some("k"), &body).await;
            assert!(refused.is_problem(403), "{who} on {path}: {}", refused.text);
        }
        let unauthenticated = api
            .send(
                api.http.post(format!("{}{path}", api.base)).json(&body),
                None,
            )
            .await;
        assert!(unauthenticated.is_problem(401));
        let forged = api.post(path, "not-a-token", Some("k"), &body).await;
        assert!(forged.is_problem(401), "{path} with a bad token");
        api.post(path, &admin, Some("k"), &body).await.ok();
    }
    e2e.settled_balance(b, |balance| balance.available.get() == 310)
        .await;

    // What B exports holds nothing of A's.
    let b_ledger = api.get("/api/exports/ledger", Some(&b_token)).await;
    assert_eq!(b_ledger.status, StatusCode::OK);
    assert!(!b_ledger.text.contains(&a.to_string()), "{}", b_ledger.text);
    let b_conversations = api
        .get("/api/exports/conversations?format=ndjson", Some(&b_token))
        .await;
    assert_eq!(b_conversations.status, StatusCode::OK);
    assert_eq!(b_conversations.text, "");
    let everyone = api
        .get("/api/exports/ledger?format=ndjson", Some(&finance))
        .await;
    assert!(everyone.text.contains(&a_account) && everyone.text.contains(&format!("user-{b}")));
    e2e.stop().await;
}

#[tokio::test]
async fn grants_count_once_per_key_and_corrections_move_credits_either_way() {
    let e2e = E2e::start().await;
    let api = Api::new(&e2e);
    let (user, _) = e2e.user(0).await;
    let admin = token(&e2e, Role::Admin);
    let grant = json!({"userId": user.to_string(), "credits": 1000, "reason": "welcome"});
    let first = api
        .post("/api/admin/grants", &admin, Some("welcome-1"), &grant)
        .await
        .ok();
    let retried = api
        .post("/api/admin/grants", &admin, Some("welcome-1"), &grant)
        .await
        .ok();
    assert_eq!(first["grantId"], retried["grantId"]);
    assert_eq!(
        retried["balance"]["available"], 1000,
        "the retry counted once"
    );
    let reordered = json!({"reason": "welcome", "credits": 1000, "userId": user.to_string()});
    api.post("/api/admin/grants", &admin, Some("welcome-1"), &reordered)
        .await
        .ok();
    let other = json!({"userId": user.to_string(), "credits": 999, "reason": "welcome"});
    let reused = api
        .post("/api/admin/grants", &admin, Some("welcome-1"), &other)
        .await;
    assert!(reused.is_problem(422), "{}", reused.text);
    let second = api
        .post("/api/admin/grants", &admin, Some("welcome-2"), &grant)
        .await
        .ok();
    assert_eq!(second["balance"]["available"], 2000);
    let expires_at = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    let expiring = json!({"userId": user.to_string(), "credits": 500, "expiresAt": expires_at});
    let trial = api
        .post("/api/admin/grants", &admin, Some("trial"), &expiring)
        .await
        .ok();
    assert_eq!(trial["balance"]["available"], 2500);

    let take = json!({"userId": user.to_string(), "credits": -300, "reason": "double-booked call"});
    let corrected = api
        .post("/api/admin/corrections", &admin, Some("fix-1"), &take)
        .await
        .ok();
    assert_eq!(corrected["balance"]["available"], 2200);
    let again = api
        .post("/api/admin/corrections", &admin, Some("fix-1"), &take)
        .await
        .ok();
    assert_eq!(again["balance"]["available"], 2200);
    assert_eq!(again["correctionId"], corrected["correctionId"]);
    let otherwise =
        json!({"userId": user.to_string(), "credits": -301, "reason": "double-booked call"});
    let reused = api
        .post("/api/admin/corrections", &admin, Some("fix-1"), &otherwise)
        .await;
    assert!(reused.is_problem(422), "{}", reused.text);
    let as_grant = api
        .post("/api/admin/grants", &admin, Some("fix-1"), &grant)
        .await
        .ok();
    assert_eq!(
        as_grant["balance"]["available"], 3200,
        "a key names one write of each kind"
    );
    assert_eq!(e2e.balance(user).await.available.get(), 3200);

    let finance = token(&e2e, Role::Finance);
    let entries = api
        .get_until(
            &format!("/api/ledger/accounts/user-{user}/entries"),
            &finance,
            |page| page["items"].as_array().is_some_and(|i| i.len() == 5),
        )
        .await;
    let kinds: Vec<&str> = entries["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["eventType"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "credits.granted",
            "credits.granted",
            "credits.granted",
            "credits.corrected",
            "credits.granted"
        ]
    );
    e2e.stop().await;
}

#[tokio::test]
async fn bad_input_on_the_money_routes_is_a_problem_never_a_500() {
    let e2e = E2e::start().await;
    let api = Api::new(&e2e);
    let (user, user_token) = e2e.user(100).await;
    let finance = token(&e2e, Role::Finance);
    let admin = token(&e2e, Role::Admin);
    let cost = format!("/api/users/{user}/conversation-cost");
    let gets: Vec<(String, &str, u16)> = vec![
        (
            "/api/users/not-an-id/conversation-cost".into(),
            &user_token,
            400,
        ),
        (format!("{cost}?from=yesterday"), &user_token, 400),
        (
            format!("{cost}?from=2026-02-01&to=2026-01-01"),
            &user_token,
            400,
        ),
        (
            format!("{cost}?from=2026-01-01T10:00:00Z&to=2026-01-01T10:00:00Z"),
            &user_token,
            400,
        ),
        (format!("{cost}?period=week"), &user_token, 400),
        (format!("{cost}?form=2026-01-01"), &user_token, 400),
        (
            format!("{cost}?from=1900-01-01&to=2026-01-01"),
            &user_token,
            400,
        ),
        (
            format!("/api/users/{user}/metrics?to=2026-99-01"),
            &user_token,
            400,
        ),
        ("/api/users/123/balance".into(), &user_token, 400),
        ("/api/users/%FF%FE/metrics".into(), &user_token, 400),
        ("/api/ledger/accounts/%FF/entries".into(), &finance, 400),
        (
            format!("/api/users/{}/balance", UserId::new()),
            &user_token,
            404,
        ),
        ("/api/ledger/accounts?page_size=0".into(), &finance, 400),
        ("/api/ledger/accounts?page_size=abc".into(), &finance, 400),
        ("/api/ledger/accounts?page_size=101".into(), &finance, 400),
        ("/api/ledger/accounts?cursor=garbage!".into(), &finance, 400),
        ("/api/ledger/accounts?kind=other".into(), &finance, 400),
        ("/api/ledger/accounts/nobody/entries".into(), &finance, 400),
        (
            format!("/api/ledger/accounts/user-{}/entries", UserId::new()),
            &finance,
            404,
        ),
        ("/api/ledger/reconciliation?from=soon".into(), &finance, 400),
        (
            "/api/exports/conversations?format=xml".into(),
            &user_token,
            400,
        ),
        (
            "/api/exports/conversations?status=weird".into(),
            &user_token,
            400,
        ),
        (
            "/api/exports/conversations?agentId=a%20b".into(),
            &user_token,
            400,
        ),
        (
            "/api/exports/conversations?userId=zzz".into(),
            &user_token,
            400,
        ),
        ("/api/exports/ledger?account=bogus".into(), &user_token, 400),
        (
            "/api/exports/ledger?account=system-usage".into(),
            &user_token,
            404,
        ),
    ];
    for (path, token, status) in &gets {
        let answer = api.get(path, Some(token)).await;
        assert!(
            answer.is_problem(*status),
            "GET {path}: want {status}, got {} {} {}",
            answer.status,
            answer.content_type,
            answer.text
        );
    }

    let to = user.to_string();
    let later = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    let posts: Vec<(&str, Option<&str>, Value, u16)> = vec![
        (
            "/api/admin/grants",
            None,
            json!({"userId": to, "credits": 5}),
            400,
        ),
        (
            "/api/admin/grants",
            Some(""),
            json!({"userId": to, "credits": 5}),
            400,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": "ten"}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": 0}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": -5}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": 1e30}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": 2_000_000_000_000_i64}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": 5, "bonus": true}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": "someone", "credits": 5}),
            422,
        ),
        ("/api/admin/grants", Some("k"), json!({"credits": 5}), 422),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": 5, "expiresAt": "2000-01-01T00:00:00Z"}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": 5, "expiresAt": "tomorrow"}),
            422,
        ),
        (
            "/api/admin/grants",
            Some("k"),
            json!({"userId": to, "credits": 5, "reason": "r".repeat(201), "expiresAt": later}),
            422,
        ),
        (
            "/api/admin/corrections",
            Some("k"),
            json!({"userId": to, "credits": 0, "reason": "x"}),
            422,
        ),
        (
            "/api/admin/corrections",
            Some("k"),
            json!({"userId": to, "credits": 5, "reason": "  "}),
            422,
        ),
        (
            "/api/admin/corrections",
            Some("k"),
            json!({"userId": to, "credits": 5}),
            422,
        ),
        (
            "/api/admin/corrections",
            None,
            json!({"userId": to, "credits": 5, "reason": "x"}),
            400,
        ),
    ];
    for (path, key, body, status) in &posts {
        let answer = api.post(path, &admin, *key, body).await;
        assert!(
            answer.is_problem(*status),
            "POST {path} {body}: want {status}, got {} {} {}",
            answer.status,
            answer.content_type,
            answer.text
        );
    }
    for path in ["/api/admin/grants", "/api/admin/corrections"] {
        let raw = |body: String, content_type: &'static str| {
            api.http
                .post(format!("{}{path}", api.base))
                .header("content-type", content_type)
                .header("idempotency-key", "raw")
                .body(body)
        };
        let malformed = api
            .send(
                raw("{\"userId\": ".into(), "application/json"),
                Some(&admin),
            )
            .await;
        assert!(
            malformed.is_problem(400),
            "{path} malformed: {}",
            malformed.text
        );
        let not_json = api.send(raw("{}".into(), "text/plain"), Some(&admin)).await;
        assert!(
            not_json.is_problem(415),
            "{path} text/plain: {}",
            not_json.text
        );
        let huge = format!(
            "{{\"userId\": \"{to}\", \"credits\": 5, \"reason\": \"{}\"}}",
            "r".repeat(300 * 1024)
        );
        let oversized = api.send(raw(huge, "application/json"), Some(&admin)).await;
        assert!(
            oversized.is_problem(413),
            "{path} oversized: {}",
            oversized.text
        );
    }
    assert_eq!(
        e2e.balance(user).await.available.get(),
        100,
        "no bad request moved money"
    );
    e2e.stop().await;
}
