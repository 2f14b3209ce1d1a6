//! `/readyz` tells whether NATS and MongoDB answer; `/metrics` exports what
//! the gateway counted, for Prometheus.

use gateway::{Application, Config, JwtSecret};
use testkit::{NatsServer, TestMongo};

struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn gateway(nats: &NatsServer, mongodb_uri: &str, database: &str) -> Running {
    let mut config = Config::new(
        "127.0.0.1:0".parse().expect("addr"),
        nats.url(),
        JwtSecret::random(),
    );
    config.mongodb_uri = mongodb_uri.to_owned();
    config.mongodb_database = database.to_owned();
    let app = Application::build(config).await.expect("build");
    let addr = app.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Running { addr, stop }
}

#[tokio::test]
async fn ready_only_when_mongodb_answers() {
    let nats = NatsServer::start().expect("nats-server");
    let mongo = TestMongo::start("gateway_ready").await.expect("mongo");
    let up = gateway(&nats, mongo.uri(), mongo.database()).await;
    let port = testkit::port::free_port().expect("port");
    let nowhere = format!("mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300");
    let down = gateway(&nats, &nowhere, "parlor").await;

    let ready = reqwest::get(format!("http://{}/readyz", up.addr))
        .await
        .expect("request");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");

    let unready = reqwest::get(format!("http://{}/readyz", down.addr))
        .await
        .expect("request");
    assert_eq!(unready.status(), 503);
    let body: serde_json::Value = unready.json().await.expect("json");
    assert_eq!(body["nats"], "ok");
    assert_ne!(body["mongodb"], "ok");

    let _ = up.stop.send(());
    let _ = down.stop.send(());
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_report_the_log_lag() {
    let nats = NatsServer::start().expect("nats-server");
    let mongo = TestMongo::start("gateway_metrics").await.expect("mongo");
    eventstore::EventStore::connect(&nats.url())
        .await
        .expect("nats")
        .ensure_streams()
        .await
        .expect("streams");
    let client = async_nats::connect(nats.url()).await.expect("nats");
    let jetstream = async_nats::jetstream::new(client);
    jetstream
        .get_stream("CONVERSATIONS")
        .await
        .expect("stream")
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("probe".to_owned()),
            ..Default::default()
        })
        .await
        .expect("durable consumer");
    for n in 0..2 {
        jetstream
            .publish("conv.65a1b2c3d4e5f60718293a4b", format!("{n}").into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    let running = gateway(&nats, mongo.uri(), mongo.database()).await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        http.get(format!("http://{}/healthz", running.addr))
            .send()
            .await
            .expect("request");
    }
    let text = http
        .get(format!("http://{}/metrics", running.addr))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let healthz = text
        .lines()
        .find(|line| {
            line.starts_with("parlor_http_requests_total")
                && line.contains(r#"route="/healthz""#)
                && line.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no healthz counter in:\n{text}"));
    let count: f64 = healthz
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(count >= 3.0, "{healthz}");
    assert!(text.contains("parlor_http_request_duration_seconds_bucket"));
    assert!(
        text.lines()
            .any(|line| line.starts_with("parlor_consumer_pending_events")
                && line.contains(r#"consumer="probe""#)
                && line.ends_with(" 2")),
        "no pending count for the probe consumer in:\n{text}"
    );
    let _ = running.stop.send(());
}
