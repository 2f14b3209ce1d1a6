//! Every operation the OpenAPI document lists, called with no credential
//! and with a forged one: each that is not public answers 401
//! problem+json, and none answers 5xx. The document is generated from the
//! router, so a route added later is covered without touching this test.

use std::time::Duration;

use gateway::{Application, Config, JwtSecret, Role, issue_token};
use testkit::{NatsServer, TestMongo};

/// What a path parameter is replaced with: ids that are well formed, so a
/// route gets past parsing to its credential check.
fn fill(path: &str) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        filled.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let name = &rest[open + 1..close];
        filled.push_str(match name {
            "accountId" => "user-65a1b2c3d4e5f60718293a4b",
            "agentId" | "agent_id" => "agent_sim",
            "path" => "index.html",
            _ => "65a1b2c3d4e5f60718293a4b",
        });
        rest = &rest[(close + 1).min(rest.len())..];
    }
    filled.push_str(rest);
    filled
}

#[tokio::test]
async fn every_listed_operation_refuses_a_missing_or_forged_credential() {
    let nats = NatsServer::start().expect("nats-server");
    let mongo = TestMongo::start("gateway_unauthenticated")
        .await
        .expect("mongo");
    let mut config = Config::new(
        "127.0.0.1:0".parse().expect("addr"),
        nats.url(),
        JwtSecret::random(),
    );
    config.mongodb_uri = mongo.uri().to_owned();
    config.mongodb_database = mongo.database().to_owned();
    config.webhook_secret = Some(elevenlabs::WebhookSecret::new(
        "a webhook secret of the test".to_owned(),
    ));
    let app = Application::build(config).await.expect("build");
    let addr = app.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let document: serde_json::Value = http
        .get(format!("http://{addr}/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let forged = issue_token(
        &JwtSecret::random(),
        "65a1b2c3d4e5f60718293a4b".parse().expect("user"),
        Role::Admin,
        Duration::from_secs(60),
    );

    let mut checked = 0;
    let paths = document["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let public = operation["security"]
                .as_array()
                .is_some_and(|alternatives| {
                    alternatives.iter().any(|a| a == &serde_json::json!({}))
                });
            let url = format!("http://{addr}{}", fill(path));
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            for token in [None, Some(forged.as_str())] {
                let mut request = http
                    .request(method.clone(), &url)
                    .header("content-type", "application/json")
                    .body("{}");
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.expect("request");
                let status = response.status();
                assert!(
                    !status.is_server_error() || (public && status == 503),
                    "{method} {path}: {status}"
                );
                if public {
                    continue;
                }
                assert_eq!(status, 401, "{method} {path} with {token:?}");
                assert_eq!(
                    response.headers()["content-type"],
                    "application/problem+json",
                    "{method} {path}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} refusals checked");
    let _ = stop.send(());
}
