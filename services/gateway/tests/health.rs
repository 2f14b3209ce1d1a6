//! The gateway starts against a real nats-server and answers its health check.

use gateway::{Application, Config, JwtSecret};
use testkit::NatsServer;

#[tokio::test]
async fn serves_health_on_a_free_port() {
    let nats = NatsServer::start().expect("nats-server");
    let config = Config::new(
        "127.0.0.1:0".parse().expect("addr"),
        nats.url(),
        JwtSecret::random(),
    );
    let app = Application::build(config).await.expect("build");
    let addr = app.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    let body: serde_json::Value = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(body["status"], "ok");

    stop.send(()).expect("server still running");
    server.await.expect("join").expect("clean stop");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_and_the_openapi_document_lists_the_routes() {
    let nats = NatsServer::start().expect("nats-server");
    let config = Config::new(
        "127.0.0.1:0".parse().expect("addr"),
        nats.url(),
        JwtSecret::random(),
    );
    let app = Application::build(config).await.expect("build");
    let addr = app.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();

    let missing = http
        .get(format!("http://{addr}/no/such/route"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = missing.json().await.expect("json");
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["type"], "urn:parlor:problem:not-found");

    let wrong_method = http
        .delete(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(
        wrong_method.headers()["content-type"],
        "application/problem+json"
    );

    let document: serde_json::Value = http
        .get(format!("http://{addr}/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    for path in [
        "/healthz",
        "/openapi.json",
        "/v1/convai/conversation",
        "/v1/convai/conversation/get-signed-url",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} is listed");
    }

    stop.send(()).expect("server still running");
    server.await.expect("join").expect("clean stop");
}
