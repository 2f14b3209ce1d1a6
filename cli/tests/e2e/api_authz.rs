//! The authorization matrix: every operation `/openapi.json` lists, called
//! as six callers (no token, a forged token, user A who owns the data the
//! path names, user B, finance, admin), against real data (an ended call
//! of A's through the simulator, A's client-side transcript, A's grant).
//! The expected outcome of each (route, caller) is one row of [`MATRIX`];
//! a route served without a row, or a row for a route not served, fails
//! the test. No call depends on another's effect: writes are grants and
//! corrections that add credits, a transcript save that is idempotent, and
//! a chat message to an ended conversation.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use events::ConversationId;
use gateway::{JwtSecret, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::api_history::call_saying;
use super::harness::{E2e, poll_until};
use super::shape::{id_of, status_is};

/// What a caller gets from a route, as a status class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Allowed,
    /// 401: no credential, or a bad one.
    Unauthorized,
    /// 403: the route is closed to the caller's role.
    Forbidden,
    /// 404: the data is another user's (as absent as data that never was).
    NotFound,
    /// 409: the caller's own data, in a state the write cannot apply to.
    Conflict,
    /// 426: authorized, but the route is a WebSocket.
    Upgrade,
}

use Outcome::{Allowed, Conflict, Forbidden, NotFound, Unauthorized, Upgrade};

impl Outcome {
    fn admits(self, status: StatusCode) -> bool {
        match self {
            Allowed => status.is_success(),
            Unauthorized => status == StatusCode::UNAUTHORIZED,
            Forbidden => status == StatusCode::FORBIDDEN,
            NotFound => status == StatusCode::NOT_FOUND,
            Conflict => status == StatusCode::CONFLICT,
            Upgrade => status == StatusCode::UPGRADE_REQUIRED,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Caller {
    Nobody,
    Forged,
    A,
    B,
    Finance,
    Admin,
}

const CALLERS: [Caller; 6] = [
    Caller::Nobody,
    Caller::Forged,
    Caller::A,
    Caller::B,
    Caller::Finance,
    Caller::Admin,
];

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Every operation, and what each caller gets. Path parameters name A's
/// data: `{id}` A's ended call (Parlor's id), `{conversation_id}` the same
/// call by ElevenLabs' id, `{userId}` A, `{accountId}` A's account,
/// `{agentId}` the agent A talked to. POST bodies are in [`body`].
#[rustfmt::skip]
const MATRIX: &[(&str, &str, &str, [Outcome; 6])] = &[
    // method  path                                          query                     nobody        forged        A          B          finance    admin
    ("GET",  "/api/agent/signed-url",                        "?agentId={agentId}",   [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/api/agents/{agentId}/stats",                  "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  Allowed,   Allowed]),
    ("GET",  "/api/conversations",                           "",                     [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    // Finance reads everyone's money, never what was said: the leak check holds it to that.
    ("GET",  "/api/conversations/{id}",                      "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  Allowed,   Allowed]),
    // What was said, live: its owner's and the admin's only.
    ("GET",  "/api/conversations/{id}/live",                 "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  NotFound,  Allowed]),
    ("GET",  "/api/exports/conversations",                   "",                     [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/api/exports/ledger",                          "",                     [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/api/ledger/accounts",                         "",                     [Unauthorized, Unauthorized, Forbidden, Forbidden, Allowed,   Allowed]),
    ("GET",  "/api/ledger/accounts/{accountId}/entries",     "",                     [Unauthorized, Unauthorized, Forbidden, Forbidden, Allowed,   Allowed]),
    ("GET",  "/api/ledger/reconciliation",                   "",                     [Unauthorized, Unauthorized, Forbidden, Forbidden, Allowed,   Allowed]),
    ("GET",  "/api/me",                                      "",                     [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/api/users/{userId}/balance",                  "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  Allowed,   Allowed]),
    ("GET",  "/api/users/{userId}/conversation-cost",        "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  Allowed,   Allowed]),
    ("GET",  "/api/users/{userId}/metrics",                  "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  Allowed,   Allowed]),
    ("GET",  "/dashboard",                                   "",                     [Allowed,      Allowed,      Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/dashboard/",                                  "",                     [Allowed,      Allowed,      Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/dashboard/{path}",                            "",                     [Allowed,      Allowed,      Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/healthz",                                     "",                     [Allowed,      Allowed,      Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/metrics",                                     "",                     [Allowed,      Allowed,      Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/openapi.json",                                "",                     [Allowed,      Allowed,      Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/readyz",                                      "",                     [Allowed,      Allowed,      Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/v1/convai/conversation",                      "?agent_id={agentId}",  [Unauthorized, Unauthorized, Upgrade,   Upgrade,   Upgrade,   Upgrade]),
    ("GET",  "/v1/convai/conversation/get-signed-url",       "?agent_id={agentId}",  [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/v1/convai/conversation/get_signed_url",       "?agent_id={agentId}",  [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    ("GET",  "/v1/convai/conversations",                     "",                     [Unauthorized, Unauthorized, Allowed,   Allowed,   Allowed,   Allowed]),
    // ElevenLabs' history is transcripts: as the live route.
    ("GET",  "/v1/convai/conversations/{conversation_id}",   "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  NotFound,  Allowed]),
    ("POST", "/api/admin/corrections",                       "",                     [Unauthorized, Unauthorized, Forbidden, Forbidden, Forbidden, Allowed]),
    ("POST", "/api/admin/grants",                            "",                     [Unauthorized, Unauthorized, Forbidden, Forbidden, Forbidden, Allowed]),
    // A's ended call takes no more messages; to anyone else it is absent.
    ("POST", "/api/agent",                                   "",                     [Unauthorized, Unauthorized, Conflict,  NotFound,  NotFound,  NotFound]),
    // A transcript is saved by its owner only, admin included.
    ("POST", "/api/transcription",                           "",                     [Unauthorized, Unauthorized, Allowed,   NotFound,  NotFound,  NotFound]),
    // Unsigned: the signature is the credential, not the token.
    ("POST", "/webhooks/elevenlabs",                         "",                     [Unauthorized, Unauthorized, Unauthorized, Unauthorized, Unauthorized, Unauthorized]),
];

/// A's data the rows name, and the tokens.
struct Fixture {
    agent: String,
    a: String,
    /// A's ended call: Parlor's id and ElevenLabs'.
    call: ConversationId,
    call_elevenlabs: String,
    /// What A said in the call: no one else's answer may contain it.
    said: String,
    transcript: Value,
    tokens: [Option<String>; 6],
}

impl Fixture {
    fn token(&self, caller: Caller) -> Option<&str> {
        self.tokens[caller as usize].as_deref()
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("{agentId}", &self.agent)
            .replace("{userId}", &self.a)
            .replace("{accountId}", &format!("user-{}", self.a))
            .replace("{conversation_id}", &self.call_elevenlabs)
            .replace("{id}", &self.call.to_string())
            .replace("{path}", "index.html")
    }

    /// What `caller`'s answer must not contain: everything of A's for B;
    /// what A said for anyone who may not read A's transcripts.
    fn secrets(&self, caller: Caller) -> Vec<String> {
        match caller {
            Caller::B => vec![
                self.a.clone(),
                self.call.to_string(),
                self.call_elevenlabs.clone(),
                self.said.clone(),
            ],
            Caller::Nobody | Caller::Forged | Caller::Finance => vec![self.said.clone()],
            Caller::A | Caller::Admin => Vec::new(),
        }
    }
}

/// A minimal valid body for each write.
fn body(fixture: &Fixture, path: &str) -> Value {
    match path {
        "/api/admin/grants" => json!({"userId": fixture.a, "credits": 1}),
        "/api/admin/corrections" => {
            json!({"userId": fixture.a, "credits": 1, "reason": "authorization matrix"})
        }
        "/api/agent" => json!({
            "agentId": fixture.agent, "message": "anyone there?",
            "conversationId": fixture.call.to_string(),
        }),
        "/api/transcription" => fixture.transcript.clone(),
        _ => json!({}),
    }
}

async fn setup(e2e: &E2e, http: &reqwest::Client) -> Fixture {
    let (a, a_token) = e2e.user(10_000).await;
    let (_, b_token) = e2e.user(10_000).await;
    let hour = Duration::from_secs(3600);
    let token = |role| gateway::issue_token(&e2e.secret, events::UserId::new(), role, hour);
    let forged = gateway::issue_token(&JwtSecret::random(), a, Role::Admin, hour);
    let said = format!("my locker code is {}", ConversationId::new());
    let call_elevenlabs = call_saying(e2e, &a_token, &said).await;
    let document = e2e.document_of(&call_elevenlabs, status_is("done")).await;
    let agent = e2e.sim.default_agent_id().to_owned();
    let started = chrono::Utc::now() - chrono::TimeDelta::seconds(90);
    let transcript = json!({
        "conversationId": format!("conv_authz{}", ConversationId::new()),
        "agentId": agent,
        "startedAt": started.to_rfc3339(),
        "endedAt": (started + chrono::TimeDelta::seconds(30)).to_rfc3339(),
        "messages": [{"role": "user", "message": said, "timeInCallSecs": 1}],
    });
    let fixture = Fixture {
        agent,
        a: a.to_string(),
        call: id_of(&document),
        call_elevenlabs,
        said,
        transcript,
        tokens: [
            None,
            Some(forged),
            Some(a_token),
            Some(b_token),
            Some(token(Role::Finance)),
            Some(token(Role::Admin)),
        ],
    };
    let saved = http
        .post(format!("{}/api/transcription", e2e.gateway_http()))
        .bearer_auth(fixture.token(Caller::A).expect("A"))
        .json(&fixture.transcript)
        .send()
        .await
        .expect("request");
    assert_eq!(saved.status(), StatusCode::OK, "A's client-side transcript");
    // The agent's rollup is projected after the call's document.
    let stats = format!(
        "{}{}",
        e2e.gateway_http(),
        fixture.fill("/api/agents/{agentId}/stats")
    );
    poll_until("the agent's stats", || async {
        let response = http
            .get(&stats)
            .bearer_auth(fixture.token(Caller::Admin).expect("admin"))
            .send()
            .await
            .expect("request");
        response.status().is_success().then_some(())
    })
    .await;
    fixture
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_matrix_says() {
    let e2e = E2e::start().await;
    let http = reqwest::Client::new();
    let fixture = setup(&e2e, &http).await;
    let base = e2e.gateway_http();

    let document: Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let served: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(|method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let rows: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(method, path, _, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(rows.len(), MATRIX.len(), "a route has two rows");
    let unlisted: Vec<_> = served.difference(&rows).collect();
    assert!(
        unlisted.is_empty(),
        "served without a row in MATRIX: {unlisted:?}"
    );
    let unserved: Vec<_> = rows.difference(&served).collect();
    assert!(
        unserved.is_empty(),
        "rows for routes not served: {unserved:?}"
    );

    let mut wrong = Vec::new();
    for (method, path, query, outcomes) in MATRIX {
        let url = format!("{base}{}{}", fixture.fill(path), fixture.fill(query));
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        for (caller, expected) in CALLERS.into_iter().zip(outcomes) {
            let mut request = http.request(method.clone(), &url);
            if method == Method::POST {
                request = request
                    .header("idempotency-key", ConversationId::new().to_string())
                    .json(&body(&fixture, path));
            }
            if let Some(token) = fixture.token(caller) {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("request");
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let text = response.text().await.expect("body");
            let what = format!("{method} {path} as {caller}");
            if !expected.admits(status) {
                wrong.push(format!("{what}: {status}, expected {expected:?}: {text}"));
                continue;
            }
            if !status.is_success() {
                assert_eq!(content_type, "application/problem+json", "{what}");
            }
            for secret in fixture.secrets(caller) {
                assert!(!text.contains(&secret), "{what} leaks {secret}: {text}");
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    e2e.stop().await;
}
