//! `GET /api/me` answers who a token names, and 401 without one.

use std::time::Duration;

use gateway::{Application, Config, JwtSecret, Role, issue_token};
use testkit::NatsServer;

#[tokio::test]
async fn me_names_the_tokens_user_and_role() {
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
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let user = "65a1b2c3d4e5f60718293a4b".parse().expect("user id");
    let token = issue_token(&secret, user, Role::Finance, Duration::from_secs(60));

    let me: serde_json::Value = http
        .get(format!("http://{addr}/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(me["userId"], "65a1b2c3d4e5f60718293a4b");
    assert_eq!(me["role"], "finance");

    let anonymous = http
        .get(format!("http://{addr}/api/me"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );
    let forged = http
        .get(format!("http://{addr}/api/me"))
        .bearer_auth(issue_token(
            &JwtSecret::random(),
            user,
            Role::Admin,
            Duration::from_secs(60),
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 401);
    let _ = stop.send(());
}
