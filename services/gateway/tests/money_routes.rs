//! The money routes without the rest of the stack: the OpenAPI document
//! lists them and validates (`openapi-spec-validator` from PyPI, skipped
//! when Python or PyPI is unavailable), and with no ledger answering a
//! balance is a 503 problem.

use std::time::Duration;

use events::UserId;
use gateway::{Application, Config, JwtSecret, Role, issue_token};
use testkit::NatsServer;
use testkit::python::PythonEnv;

#[tokio::test]
async fn the_money_routes_are_documented_and_a_silent_ledger_is_a_503() {
    let nats = NatsServer::start().expect("nats-server");
    let secret = JwtSecret::random();
    let config = Config::new(
        "127.0.0.1:0".parse().expect("addr"),
        nats.url(),
        secret.clone(),
    );
    let app = Application::build(config).await.expect("build");
    let addr = app.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
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
    for (path, method) in [
        ("/api/users/{userId}/conversation-cost", "get"),
        ("/api/users/{userId}/metrics", "get"),
        ("/api/users/{userId}/balance", "get"),
        ("/api/ledger/accounts", "get"),
        ("/api/ledger/accounts/{accountId}/entries", "get"),
        ("/api/ledger/reconciliation", "get"),
        ("/api/admin/grants", "post"),
        ("/api/admin/corrections", "post"),
        ("/api/exports/conversations", "get"),
        ("/api/exports/ledger", "get"),
    ] {
        assert!(
            document["paths"][path].get(method).is_some(),
            "{method} {path} is listed"
        );
    }

    validate(&document).await;

    let user = UserId::new();
    let token = issue_token(&secret, user, Role::User, Duration::from_secs(60));
    let answer = http
        .get(format!("http://{addr}/api/users/{user}/balance"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");

    stop.send(()).expect("server still running");
    server.await.expect("join").expect("clean stop");
}

/// Validates `document` as OpenAPI 3.1 with the reference Python validator.
async fn validate(document: &serde_json::Value) {
    let env = tokio::task::spawn_blocking(|| {
        PythonEnv::ensure("openapi-validator", &["openapi-spec-validator>=0.7,<1"])
    })
    .await
    .expect("install task");
    let env = match env {
        Ok(env) => env,
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("skipping the OpenAPI validation: {error}");
            }
            return;
        }
    };
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), serde_json::to_vec(document).expect("json")).expect("write");
    let output = env
        .command()
        .args([
            "-c",
            "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1])))",
        ])
        .arg(file.path())
        .output()
        .expect("python");
    assert!(
        output.status.success(),
        "the OpenAPI document does not validate: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
