//! The event log against a real nats-server (started by testkit).

use std::time::{Duration, Instant};

use events::conversation::UserMessage;
use events::{ConversationEvent, ConversationId, CorrelationId, Envelope, EnvelopeMeta};
use eventstore::{
    Error, EventStore, ExpectedVersion, ReplayFrom, Step, StreamName, SubscriptionConfig,
};
use futures::TryStreamExt;
use testkit::NatsServer;

const DEADLINE: Duration = Duration::from_secs(20);

async fn start() -> (NatsServer, EventStore) {
    let server = NatsServer::start().expect("nats-server");
    let store = EventStore::connect(&server.url()).await.expect("connect");
    store.ensure_streams().await.expect("streams");
    (server, store)
}

fn message(conv: ConversationId, text: &str) -> Envelope<ConversationEvent> {
    Envelope::new(
        EnvelopeMeta::new(conv.to_string(), CorrelationId::new()),
        ConversationEvent::UserMessage(UserMessage {
            text: text.to_owned(),
            time_in_call_ms: 0,
        }),
    )
}

fn text(envelope: &Envelope<ConversationEvent>) -> &str {
    match &envelope.event {
        ConversationEvent::UserMessage(m) => &m.text,
        other => panic!("unexpected event {other:?}"),
    }
}

#[tokio::test]
async fn append_then_load_returns_the_aggregates_events_in_order() {
    let (_server, store) = start().await;
    let conv = ConversationId::new();
    let other = ConversationId::new();
    let first = store
        .append(
            conv,
            ExpectedVersion::Exact(0),
            &[message(conv, "a"), message(conv, "b")],
        )
        .await
        .expect("append");
    store
        .append(other, ExpectedVersion::Exact(0), &[message(other, "x")])
        .await
        .expect("other");
    let second = store
        .append(
            conv,
            ExpectedVersion::Exact(first.version),
            &[message(conv, "c")],
        )
        .await
        .expect("append");

    let loaded = store.load::<ConversationEvent>(conv).await.expect("load");
    let texts: Vec<_> = loaded.events.iter().map(|s| text(&s.envelope)).collect();
    assert_eq!(texts, ["a", "b", "c"]);
    assert_eq!(loaded.version, second.version);
    assert_eq!(
        second.version, 4,
        "the other aggregate's event took sequence 3"
    );
    let sequences: Vec<_> = loaded.events.iter().map(|s| s.sequence).collect();
    assert_eq!(sequences, [1, 2, 4]);

    let empty = store
        .load::<ConversationEvent>(ConversationId::new())
        .await
        .expect("load");
    assert!(empty.events.is_empty());
    assert_eq!(empty.version, 0);
}

#[tokio::test]
async fn a_retried_append_is_a_duplicate_not_a_second_copy() {
    let (_server, store) = start().await;
    let conv = ConversationId::new();
    let events = [message(conv, "a"), message(conv, "b")];
    let first = store
        .append(conv, ExpectedVersion::Exact(0), &events)
        .await
        .expect("append");
    assert_eq!(first.duplicates, 0);
    let retry = store
        .append(conv, ExpectedVersion::Exact(0), &events)
        .await
        .expect("retry");
    assert_eq!(retry.duplicates, 2);
    assert_eq!(retry.version, first.version);
    let loaded = store.load::<ConversationEvent>(conv).await.expect("load");
    assert_eq!(loaded.events.len(), 2);
}

#[tokio::test]
async fn two_writers_racing_on_one_aggregate_one_wins_one_conflicts() {
    let (_server, store) = start().await;
    let conv = ConversationId::new();
    let base = store
        .append(conv, ExpectedVersion::Exact(0), &[message(conv, "start")])
        .await
        .expect("append")
        .version;
    let (writer_a, writer_b) = ([message(conv, "writer a")], [message(conv, "writer b")]);
    let (a, b) = tokio::join!(
        store.append(conv, ExpectedVersion::Exact(base), &writer_a),
        store.append(conv, ExpectedVersion::Exact(base), &writer_b),
    );
    let (winner, loser) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("exactly one writer must win: {other:?}"),
    };
    match loser {
        Error::Conflict { expected, actual } => {
            assert_eq!(expected, base);
            assert_eq!(actual, winner.version);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let loaded = store.load::<ConversationEvent>(conv).await.expect("load");
    assert_eq!(loaded.events.len(), 2);
}

#[tokio::test]
async fn appending_an_event_of_another_aggregate_is_refused() {
    let (_server, store) = start().await;
    let conv = ConversationId::new();
    let stray = message(ConversationId::new(), "elsewhere");
    let err = store
        .append(conv, ExpectedVersion::Any, &[stray])
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::WrongAggregate { .. }), "{err:?}");
}

#[tokio::test]
async fn a_failed_handler_gets_the_event_again_in_order() {
    let (_server, store) = start().await;
    let conv = ConversationId::new();
    let events: Vec<_> = ["one", "two", "three"]
        .iter()
        .map(|t| message(conv, t))
        .collect();
    store
        .append(conv, ExpectedVersion::Exact(0), &events)
        .await
        .expect("append");

    let mut config = SubscriptionConfig::new(StreamName::Conversations, "test-consumer");
    config.retry_delay = Duration::from_millis(20);
    let subscription = store.subscribe(config.clone()).await.expect("subscribe");

    // The handler refuses "two" once: "one" is acked, "two" and "three" come back.
    let mut seen: Vec<(String, u64)> = Vec::new();
    let mut failed_once = false;
    let deadline = Instant::now() + DEADLINE;
    let mut steps = Vec::new();
    while seen.iter().filter(|(_, d)| *d >= 1).count() < 4 {
        assert!(Instant::now() < deadline, "redelivery never came: {seen:?}");
        let step = subscription
            .step(|m| {
                let envelope = m.decode::<ConversationEvent>().expect("decodes");
                let t = text(&envelope).to_owned();
                seen.push((t.clone(), m.delivered));
                let fail = t == "two" && !failed_once;
                failed_once |= fail;
                async move {
                    if fail {
                        Err("refused once".into())
                    } else {
                        Ok(())
                    }
                }
            })
            .await
            .expect("step");
        if step != Step::CaughtUp {
            steps.push(step);
        }
    }
    assert_eq!(steps.first(), Some(&Step::Failed { handled: 1 }));
    let texts: Vec<_> = seen.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(texts, ["one", "two", "two", "three"]);
    assert_eq!(seen[2].1, 2, "the second delivery of `two` says so");

    // Everything is acked: a new subscriber on the same durable sees nothing.
    drop(subscription);
    let again = store.subscribe(config).await.expect("resubscribe");
    assert_eq!(
        again.step(|_| async { Ok(()) }).await.expect("step"),
        Step::CaughtUp
    );
}

#[tokio::test]
async fn an_unacked_event_goes_to_the_next_subscriber_of_the_durable() {
    let (_server, store) = start().await;
    let conv = ConversationId::new();
    store
        .append(conv, ExpectedVersion::Exact(0), &[message(conv, "only")])
        .await
        .expect("append");
    let mut config = SubscriptionConfig::new(StreamName::Conversations, "crashy");
    config.retry_delay = Duration::from_millis(10);
    let first = store.subscribe(config.clone()).await.expect("subscribe");
    let step = first
        .step(|_| async { Err("crash".into()) })
        .await
        .expect("step");
    assert_eq!(step, Step::Failed { handled: 0 });
    drop(first);

    let second = store.subscribe(config).await.expect("resubscribe");
    let deadline = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < deadline, "never redelivered");
        if second.step(|_| async { Ok(()) }).await.expect("step") == Step::Advanced(1) {
            break;
        }
    }
}

#[tokio::test]
async fn killing_and_restarting_nats_keeps_every_acknowledged_event() {
    let (mut server, store) = start().await;
    let conv = ConversationId::new();
    let events: Vec<_> = (0..50).map(|i| message(conv, &format!("m{i}"))).collect();
    let appended = store
        .append(conv, ExpectedVersion::Exact(0), &events)
        .await
        .expect("append");

    server.kill();
    server.restart().expect("restart");

    let store = EventStore::connect(&server.url()).await.expect("reconnect");
    let deadline = Instant::now() + DEADLINE;
    let loaded = loop {
        match store.load::<ConversationEvent>(conv).await {
            Ok(loaded) => break loaded,
            Err(e) if Instant::now() < deadline => tracing::debug!("not ready yet: {e}"),
            Err(e) => panic!("never recovered: {e}"),
        }
    };
    assert_eq!(loaded.version, appended.version);
    let texts: Vec<_> = loaded
        .events
        .iter()
        .map(|s| text(&s.envelope).to_owned())
        .collect();
    let expected: Vec<_> = (0..50).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn replay_from_a_sequence_returns_exactly_the_tail() {
    let (_server, store) = start().await;
    let convs = [
        ConversationId::new(),
        ConversationId::new(),
        ConversationId::new(),
    ];
    for i in 0..10 {
        let conv = convs[i % 3];
        store
            .append(
                conv,
                ExpectedVersion::Any,
                &[message(conv, &format!("e{i}"))],
            )
            .await
            .expect("append");
    }
    let tail: Vec<_> = store
        .replay(StreamName::Conversations, ReplayFrom::Sequence(7))
        .await
        .expect("replay")
        .try_collect()
        .await
        .expect("read");
    let sequences: Vec<_> = tail.iter().map(|m| m.sequence).collect();
    assert_eq!(sequences, [7, 8, 9, 10]);
    let texts: Vec<_> = tail
        .iter()
        .map(|m| text(&m.decode::<ConversationEvent>().expect("decode")).to_owned())
        .collect();
    assert_eq!(texts, ["e6", "e7", "e8", "e9"]);

    let all: Vec<_> = store
        .replay(StreamName::Conversations, ReplayFrom::Beginning)
        .await
        .expect("replay")
        .try_collect()
        .await
        .expect("read");
    assert_eq!(all.len(), 10);
    let past_end: Vec<_> = store
        .replay(StreamName::Conversations, ReplayFrom::Sequence(11))
        .await
        .expect("replay")
        .try_collect()
        .await
        .expect("read");
    assert!(past_end.is_empty());
    let ledger: Vec<_> = store
        .replay(StreamName::Ledger, ReplayFrom::Beginning)
        .await
        .expect("replay")
        .try_collect()
        .await
        .expect("read");
    assert!(ledger.is_empty());
}

#[tokio::test]
async fn replay_from_a_time_skips_what_came_before() {
    let (_server, store) = start().await;
    let conv = ConversationId::new();
    store
        .append(conv, ExpectedVersion::Any, &[message(conv, "old")])
        .await
        .expect("append");
    let cut = chrono::Utc::now();
    // Let the clock move past the cut so "new" is stamped strictly after it.
    let deadline = Instant::now() + DEADLINE;
    while chrono::Utc::now() <= cut + chrono::Duration::milliseconds(1) {
        assert!(Instant::now() < deadline);
        tokio::task::yield_now().await;
    }
    store
        .append(conv, ExpectedVersion::Any, &[message(conv, "new")])
        .await
        .expect("append");
    let from_cut: Vec<_> = store
        .replay(StreamName::Conversations, ReplayFrom::Time(cut))
        .await
        .expect("replay")
        .try_collect()
        .await
        .expect("read");
    let texts: Vec<_> = from_cut
        .iter()
        .map(|m| text(&m.decode::<ConversationEvent>().expect("decode")).to_owned())
        .collect();
    assert_eq!(texts, ["new"]);
}
