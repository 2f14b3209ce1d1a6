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
