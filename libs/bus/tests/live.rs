//! The live link's numbering against a real nats-server: a frame NATS
//! dropped is asked for and comes again, in order and once.

use std::time::Duration;

use bus::live::{FramesLost, KEPT_BYTES};
use bus::{LiveMessage, LiveSender};
use bytes::Bytes;
use futures::StreamExt;
use testkit::NatsServer;

const WAIT: Duration = Duration::from_secs(10);

async fn next(subscriber: &mut async_nats::Subscriber) -> async_nats::Message {
    tokio::time::timeout(WAIT, subscriber.next())
        .await
        .expect("a message in time")
        .expect("subscribed")
}

fn frame(body: &'static str) -> Option<LiveMessage> {
    Some(LiveMessage::Frame(Bytes::from_static(body.as_bytes())))
}

#[tokio::test]
async fn a_dropped_frame_is_asked_for_and_comes_again_in_order_and_once() {
    let nats = NatsServer::start().expect("nats-server");
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut on_in = client.subscribe("live.t.in").await.expect("subscribe");
    let mut on_out = client.subscribe("live.t.out").await.expect("subscribe");
    client.flush().await.expect("flush");
    // The gateway's end sends `.in`; the session's end sends `.out`.
    let gateway = LiveSender::new(client.clone(), "live.t.in");
    let session = LiveSender::new(client.clone(), "live.t.out");

    for body in ["one", "two", "three"] {
        gateway
            .frame(Bytes::from_static(body.as_bytes()))
            .await
            .expect("sent");
    }
    let (one, _two, three) = (
        next(&mut on_in).await,
        next(&mut on_in).await,
        next(&mut on_in).await,
    );
    assert_eq!(session.accept(&one).await, Ok(frame("one")));
    // "two" never reaches the session: "three" is held back and "two" asked for.
    assert_eq!(session.accept(&three).await, Ok(None));
    let ask = next(&mut on_out).await;
    assert_eq!(gateway.accept(&ask).await, Ok(None), "the ask is no frame");
    let (two_again, three_again) = (next(&mut on_in).await, next(&mut on_in).await);
    assert_eq!(session.accept(&two_again).await, Ok(frame("two")));
    assert_eq!(session.accept(&three_again).await, Ok(frame("three")));
    assert_eq!(
        session.accept(&three).await,
        Ok(None),
        "a repeat is dropped"
    );

    // A heartbeat names the last frame sent: one lost at the end is asked for too.
    gateway
        .frame(Bytes::from_static(b"four"))
        .await
        .expect("sent");
    let _four = next(&mut on_in).await;
    gateway.heartbeat().await.expect("heartbeat");
    let beat = next(&mut on_in).await;
    assert_eq!(
        session.accept(&beat).await,
        Ok(Some(LiveMessage::Heartbeat))
    );
    let ask = next(&mut on_out).await;
    assert_eq!(gateway.accept(&ask).await, Ok(None));
    assert_eq!(
        session.accept(&next(&mut on_in).await).await,
        Ok(frame("four"))
    );

    // The session's heartbeat acknowledges all four: none is kept any more.
    session.heartbeat().await.expect("heartbeat");
    let beat = next(&mut on_out).await;
    assert_eq!(
        gateway.accept(&beat).await,
        Ok(Some(LiveMessage::Heartbeat))
    );
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(events::command::live::RESEND_HEADER, "1");
    client
        .publish_with_headers("live.t.out", headers, Bytes::new())
        .await
        .expect("published");
    let stale = next(&mut on_out).await;
    assert_eq!(
        gateway.accept(&stale).await,
        Ok(None),
        "acknowledged: nothing to send"
    );
}

#[tokio::test]
async fn frames_asked_for_past_what_is_kept_are_lost() {
    let nats = NatsServer::start().expect("nats-server");
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut on_in = client.subscribe("live.u.in").await.expect("subscribe");
    client.flush().await.expect("flush");
    let session = LiveSender::new(client.clone(), "live.u.out");
    // Three frames of over half what is kept: the first two are forgotten.
    let big = Bytes::from(vec![b'x'; KEPT_BYTES / 2 + 1]);
    for _ in 0..3 {
        session.frame(big.clone()).await.expect("sent");
    }
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(events::command::live::RESEND_HEADER, "2");
    client
        .publish_with_headers("live.u.in", headers, Bytes::new())
        .await
        .expect("published");
    let ask = next(&mut on_in).await;
    assert_eq!(session.accept(&ask).await, Err(FramesLost { from: 2 }));
}

#[tokio::test]
async fn an_unnumbered_sender_is_taken_as_it_comes() {
    let nats = NatsServer::start().expect("nats-server");
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut on_in = client.subscribe("live.v.in").await.expect("subscribe");
    client.flush().await.expect("flush");
    let chat = LiveSender::unnumbered(client.clone(), "live.v.in");
    let session = LiveSender::new(client.clone(), "live.v.out");
    for _ in 0..2 {
        chat.frame(Bytes::from_static(b"hi")).await.expect("sent");
        assert_eq!(
            session.accept(&next(&mut on_in).await).await,
            Ok(frame("hi"))
        );
    }
    chat.heartbeat().await.expect("heartbeat");
    assert_eq!(
        session.accept(&next(&mut on_in).await).await,
        Ok(Some(LiveMessage::Heartbeat))
    );
}
