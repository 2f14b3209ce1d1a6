//! One very long call neither stalls other conversations nor outgrows its
//! document: the first messages are embedded, the rest overflow to
//! `conversation_messages`, and the figures count them all.

use std::time::Duration;

use events::ConversationEvent;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use tokio::time::Instant;

use crate::support::{Call, World, assert_prisma_types};

/// Messages in the long call.
const LONG_CALL_MESSAGES: u64 = 20_000;
/// Appended per pipelined round.
const CHUNK: u64 = 1_000;
/// How soon a short call's document must be complete after its end.
const FRESH_WITHIN: Duration = Duration::from_secs(5);
/// How long the whole long call may take to project before the test gives up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);
/// Pace of looking again (the read model has no change feed).
const PACE: Duration = Duration::from_millis(20);

fn message(index: u64) -> (i64, ConversationEvent) {
    let ms = i64::try_from(index * 100).unwrap_or(i64::MAX);
    let event = if index.is_multiple_of(2) {
        Call::user(&format!("user line {index}"), index * 100)
    } else {
        Call::agent(
            &format!("agent line {index}"),
            index * 100,
            Some(200 + index % 300),
            index,
        )
    };
    (ms + 1_000, event)
}

/// Polls `probe` until it yields a value, or panics at `deadline`.
async fn until<T, F, Fut>(deadline: Instant, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let mut pace = tokio::time::interval(PACE);
    loop {
        pace.tick().await;
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not seen by the deadline"
        );
    }
}

fn messages_of(doc: &Document) -> usize {
    doc.get_array("messages").map_or(0, Vec::len)
}

#[tokio::test]
async fn a_short_call_is_fresh_while_a_20000_message_call_is_projected() {
    let world = World::start().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let test = async {
        let store = &world.store;
        let mut long = Call::new();
        long.append(store, 0, Call::requested()).await;
        long.append(store, 100, Call::started()).await;
        let mut short = Call::new();
        let mut short_ended = None;
        for first in (0..LONG_CALL_MESSAGES).step_by(usize::try_from(CHUNK).unwrap_or(1)) {
            long.append_pipelined(store, (first..first + CHUNK).map(message))
                .await;
            if first == LONG_CALL_MESSAGES / 2 {
                // Half the long call is in the log, the projector behind on it.
                short.append(store, 0, Call::requested()).await;
                short.append(store, 100, Call::started()).await;
                short
                    .append(store, 200, Call::agent("Hello", 0, Some(250), 1))
                    .await;
                short.append(store, 900, Call::user("Hi, bye", 700)).await;
                short
                    .append(store, 1_200, Call::agent("Bye", 1_000, Some(300), 2))
                    .await;
                short.append(store, 1_500, Call::ended(1_500)).await;
                short_ended = Some(Instant::now());
            }
        }
        let ended = short_ended.expect("the short call ran");
        let fresh = until(
            ended + FRESH_WITHIN,
            "the short call's whole document",
            || async {
                world
                    .raw(short.id)
                    .await
                    .filter(|d| d.get_str("status") == Ok("processing") && messages_of(d) == 3)
            },
        )
        .await;
        assert_prisma_types(&fresh);
        assert_eq!(
            fresh.get_str("transcript"),
            Ok("agent: Hello\nuser: Hi, bye\nagent: Bye")
        );

        let total = i32::try_from(LONG_CALL_MESSAGES).unwrap_or(i32::MAX);
        let done = until(
            Instant::now() + GIVE_UP_AFTER,
            "the long call's last message",
            || async {
                world.raw(long.id).await.filter(|d| {
                    d.get_document("metrics")
                        .and_then(|m| m.get_i32("messageCount"))
                        == Ok(total)
                })
            },
        )
        .await;
        assert_prisma_types(&done);
        assert_eq!(done.get_str("agentId"), Ok("agent_projector_test"));
        let embedded = projector::document::DEFAULT_EMBEDDED_MESSAGES;
        assert_eq!(messages_of(&done), embedded);
        let bytes = mongodb::bson::to_vec(&done).expect("encode").len();
        assert!(bytes < 1024 * 1024, "document of {bytes} bytes");
        let overflowed = i64::try_from(LONG_CALL_MESSAGES).unwrap_or(i64::MAX)
            - i64::try_from(embedded).unwrap_or(0);
        let overflow = done
            .get_document("metadata")
            .and_then(|m| m.get_document("messages_overflow"))
            .expect("messages_overflow");
        assert_eq!(overflow.get_i64("count"), Ok(overflowed));
        let conversation = ObjectId::from_bytes(long.id.bytes());
        let messages = world.db.collection::<Document>("conversation_messages");
        let stored = messages
            .count_documents(doc! { "conversationId": conversation })
            .await
            .expect("count");
        assert_eq!(stored, u64::try_from(overflowed).unwrap_or(0));
        let last = messages
            .find_one(doc! {
                "conversationId": conversation,
                "index": i64::try_from(LONG_CALL_MESSAGES - 1).unwrap_or(0),
            })
            .await
            .expect("find")
            .expect("the last message");
        assert_eq!(
            last.get("message"),
            Some(&Bson::String(format!(
                "agent line {}",
                LONG_CALL_MESSAGES - 1
            )))
        );
        let _ = stop.send(());
    };
    let (run, ()) = tokio::join!(
        world.projector.run(async {
            let _ = stopped.await;
        }),
        test
    );
    run.expect("projector run");
    world.finish().await;
}
