//! `request` and `answer` against a real nats-server.

use std::time::Duration;

use bus::{RequestError, answer, request};
use events::command::{Refusal, RefusalCode, Reply};
use futures::StreamExt;
use testkit::NatsServer;

#[tokio::test]
async fn a_request_waits_for_a_late_service_and_refusals_come_back_typed() {
    let nats = NatsServer::start().expect("nats-server");
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let server = client.clone();
    // The service subscribes only after the request was first sent: the
    // asker must keep asking through "no responders".
    let asking = tokio::spawn({
        let client = client.clone();
        async move {
            request::<_, u32>(&client, "cmd.test.double", &21u32, Duration::from_secs(10)).await
        }
    });
    let mut requests = server
        .subscribe("cmd.test.double")
        .await
        .expect("subscribe");
    server.flush().await.expect("flush");
    let first = requests.next().await.expect("a request");
    let n: u32 = serde_json::from_slice(&first.payload).expect("body");
    answer(&server, &first, &Reply::Done(n * 2)).await;
    assert_eq!(asking.await.expect("joined").expect("answered"), 42);

    let refused = tokio::spawn({
        let client = client.clone();
        async move {
            request::<_, u32>(&client, "cmd.test.double", &1u32, Duration::from_secs(10)).await
        }
    });
    let second = requests.next().await.expect("a request");
    let refusal: Reply<u32> = Err(Refusal::new(RefusalCode::Busy, "later")).into();
    answer(&server, &second, &refusal).await;
    let error = refused.await.expect("joined").expect_err("refused");
    assert_eq!(error.refusal().map(|r| r.code), Some(RefusalCode::Busy));
}

#[tokio::test]
async fn nobody_answering_is_a_typed_error_not_a_hang() {
    let nats = NatsServer::start().expect("nats-server");
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let error = request::<_, u32>(&client, "cmd.nobody", &1u32, Duration::from_millis(300))
        .await
        .expect_err("nobody is there");
    assert!(matches!(error, RequestError::NoAnswer { .. }), "{error}");
}
