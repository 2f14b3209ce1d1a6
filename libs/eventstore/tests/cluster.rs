//! The event log on a 3-node NATS cluster (testkit) with streams kept in
//! three copies: appends and reads go on while the node leading the stream
//! is down, and the node catches up when it comes back.

use std::time::{Duration, Instant};

use events::conversation::UserMessage;
use events::{ConversationEvent, ConversationId, CorrelationId, Envelope, EnvelopeMeta};
use eventstore::{Error, EventStore, ExpectedVersion, Replicas, StreamName};
use testkit::NatsCluster;

const DEADLINE: Duration = Duration::from_secs(60);

fn message(conv: ConversationId, text: &str) -> Envelope<ConversationEvent> {
    Envelope::new(
        EnvelopeMeta::new(conv.to_string(), CorrelationId::new()),
        ConversationEvent::UserMessage(UserMessage {
            text: text.to_owned(),
            time_in_call_ms: 0,
        }),
    )
}

/// Appends one event, retrying while the cluster elects a new leader; the
/// event's id makes a retry of a stored append a duplicate, not a second copy.
async fn append(store: &EventStore, conv: ConversationId, version: u64, text: &str) -> u64 {
    let event = message(conv, text);
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    loop {
        pace.tick().await;
        match store
            .append(
                conv,
                ExpectedVersion::Exact(version),
                std::slice::from_ref(&event),
            )
            .await
        {
            Ok(appended) => return appended.version,
            Err(Error::Unavailable(e)) | Err(Error::JetStream(e)) => {
                assert!(Instant::now() < deadline, "append of {text} gave up: {e}");
            }
            Err(e) => panic!("append of {text}: {e}"),
        }
    }
}

async fn texts(store: &EventStore, conv: ConversationId) -> Vec<String> {
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    loop {
        pace.tick().await;
        match store.load::<ConversationEvent>(conv).await {
            Ok(loaded) => {
                return loaded
                    .events
                    .into_iter()
                    .map(|s| match s.envelope.event {
                        ConversationEvent::UserMessage(m) => m.text,
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect();
            }
            Err(e) => assert!(Instant::now() < deadline, "load gave up: {e}"),
        }
    }
}

/// The node (0-based) leading `stream`, from its cluster info.
async fn leader(store: &EventStore, stream: StreamName) -> usize {
    let js = async_nats::jetstream::new(store.client().clone());
    let mut info = js.get_stream(stream.as_str()).await.expect("stream");
    let info = info.info().await.expect("info");
    assert_eq!(info.config.num_replicas, 3);
    let cluster = info.cluster.as_ref().expect("clustered");
    assert_eq!(cluster.replicas.len(), 2, "two followers beside the leader");
    let name = cluster.leader.as_deref().expect("a leader");
    name.strip_prefix("node-")
        .and_then(|n| n.parse::<usize>().ok())
        .expect("node name")
        - 1
}

#[tokio::test]
async fn replicated_streams_keep_appending_and_reading_through_a_node_stop() {
    let mut cluster = NatsCluster::start().expect("cluster");
    let store = EventStore::connect(&cluster.url()).await.expect("connect");
    store
        .ensure_streams_with(Replicas::new(3).expect("3"))
        .await
        .expect("streams");
    let conv = ConversationId::new();
    let mut version = append(&store, conv, 0, "before").await;

    let down = leader(&store, StreamName::Conversations).await;
    cluster.kill(down);
    version = append(&store, conv, version, "while down").await;
    assert_eq!(texts(&store, conv).await, ["before", "while down"]);

    cluster.restart(down).expect("restart");
    version = append(&store, conv, version, "after").await;
    assert_eq!(texts(&store, conv).await, ["before", "while down", "after"]);

    // The node that was down holds every event too: read from it alone.
    let alone = EventStore::connect(&cluster.node_url(down))
        .await
        .expect("connect to the restarted node");
    let deadline = Instant::now() + DEADLINE;
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    loop {
        pace.tick().await;
        let js = async_nats::jetstream::new(alone.client().clone());
        let caught_up = match js.get_stream(StreamName::Conversations.as_str()).await {
            Ok(mut stream) => stream.info().await.is_ok_and(|info| {
                info.cluster.as_ref().is_some_and(|c| {
                    c.replicas.iter().all(|r| r.current) && info.state.last_sequence == version
                })
            }),
            Err(_) => false,
        };
        if caught_up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted node never caught up"
        );
    }
    assert_eq!(texts(&alone, conv).await, ["before", "while down", "after"]);
}

#[test]
fn replicas_come_from_one_to_five() {
    assert_eq!(Replicas::parse(" 3 ").map(Replicas::count).ok(), Some(3));
    assert!(matches!(Replicas::parse("0"), Err(Error::Replicas(_))));
    assert!(matches!(Replicas::parse("7"), Err(Error::Replicas(_))));
    assert!(matches!(Replicas::parse("three"), Err(Error::Replicas(_))));
}

#[tokio::test]
async fn a_single_server_refuses_three_replicas_with_a_clear_error() {
    let server = testkit::NatsServer::start().expect("nats-server");
    let store = EventStore::connect(&server.url()).await.expect("connect");
    let refused = store
        .ensure_streams_with(Replicas::new(3).expect("3"))
        .await
        .expect_err("a single server has no room for three copies");
    assert!(refused.to_string().contains("CONVERSATIONS"), "{refused}");
}
