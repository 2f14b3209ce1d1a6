//! Projector copies on the same streams: each conversation keeps its order,
//! nothing is dropped, and two copies leave exactly the documents one does.
//! A restarted projector resumes from its checkpoints; an event it cannot
//! decode is parked and the others go on.

use std::time::Duration;

use eventstore::StreamName;
use futures::TryStreamExt;
use futures::future::join_all;
use mongodb::Database;
use mongodb::bson::{Document, doc};
use projector::names::Names;
use projector::{Conversations, Projector};
use tokio::time::Instant;

use crate::support::{Call, World};

/// Calls written while the copies run.
const CALLS: usize = 12;
/// How long the copies may take before the test gives up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

async fn a_whole_call(world: &World, call: &mut Call) {
    let store = &world.store;
    call.append(store, 0, Call::requested()).await;
    call.append(store, 100, Call::started()).await;
    for turn in 0..5_u64 {
        let ms = 1_000 * turn;
        call.append(
            store,
            200 + i64::try_from(ms).unwrap_or(0),
            Call::agent(&format!("turn {turn}"), ms, Some(200 + turn), turn),
        )
        .await;
        call.append(
            store,
            700 + i64::try_from(ms).unwrap_or(0),
            Call::user("ok", ms + 500),
        )
        .await;
    }
    call.append(store, 6_000, Call::interrupted(4, 5_900)).await;
    call.append(store, 6_500, Call::ended(6_000)).await;
    let captured = call.captured(40);
    call.append_ledger(store, 6_600, captured).await;
    call.append(store, 9_000, Call::cost_reported(42, 6_000))
        .await;
    let adjusted = call.adjusted(40, 42);
    call.append_ledger(store, 9_100, adjusted).await;
}

async fn documents(db: &Database, collection: &str) -> Vec<Document> {
    db.collection::<Document>(collection)
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read")
}

async fn last_sequence(world: &World, stream: StreamName) -> u64 {
    world
        .store
        .replay(stream, eventstore::ReplayFrom::Beginning)
        .await
        .expect("replay")
        .try_collect::<Vec<_>>()
        .await
        .expect("read")
        .last()
        .map_or(0, |m| m.sequence)
}

#[tokio::test]
async fn two_copies_make_the_documents_one_makes() {
    let world = World::start().await;
    let second = Projector::start(&world.store, Conversations::live(&world.db))
        .await
        .expect("second copy");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let test = async {
        let mut calls: Vec<Call> = (0..CALLS).map(|_| Call::new()).collect();
        join_all(calls.iter_mut().map(|call| a_whole_call(&world, call))).await;
        let ends = [
            last_sequence(&world, StreamName::Conversations).await,
            last_sequence(&world, StreamName::Ledger).await,
        ];
        let deadline = Instant::now() + GIVE_UP_AFTER;
        let mut pace = tokio::time::interval(Duration::from_millis(20));
        loop {
            pace.tick().await;
            let checkpoints = world.projector.checkpoints();
            let at = [
                checkpoints
                    .load(StreamName::Conversations)
                    .await
                    .expect("checkpoint"),
                checkpoints
                    .load(StreamName::Ledger)
                    .await
                    .expect("checkpoint"),
            ];
            if at == ends {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "copies stuck at {at:?} of {ends:?}"
            );
        }
        let _ = stop.send(true);
        calls
    };
    let (first, other, calls) = tokio::join!(
        world.projector.run(until_stopped(stopped.clone())),
        second.run(until_stopped(stopped.clone())),
        test
    );
    first.expect("first copy");
    other.expect("second copy");
    let by_two = documents(&world.db, "conversations").await;
    assert_eq!(by_two.len(), CALLS);

    // One copy alone, from nothing, into collections of its own.
    let alone = Projector::start(
        &world.store,
        Conversations::new(&world.db, &Names::suffixed("_alone")),
    )
    .await
    .expect("single copy");
    alone.drain().await.expect("drain");
    assert_eq!(documents(&world.db, "conversations_alone").await, by_two);
    for call in &calls {
        let doc = world.document(call.id).await;
        assert_eq!(doc.get_str("status"), Ok("done"));
        assert_eq!(doc.get_array("messages").map(Vec::len), Ok(10));
        assert_eq!(doc.get_f64("cost"), Ok(42.0));
    }
    world.finish().await;
}

#[tokio::test]
async fn a_restarted_projector_resumes_from_its_checkpoints() {
    let world = World::start().await;
    let mut call = Call::new();
    call.append(&world.store, 0, Call::requested()).await;
    call.append(&world.store, 100, Call::started()).await;
    assert_eq!(world.drain().await, 2);

    let restarted = Projector::start(&world.store, Conversations::live(&world.db))
        .await
        .expect("restart");
    assert_eq!(restarted.drain().await.expect("drain"), 0);
    call.append(&world.store, 500, Call::ended(400)).await;
    assert_eq!(restarted.drain().await.expect("drain"), 1);
    assert_eq!(
        world.document(call.id).await.get_str("status"),
        Ok("processing")
    );
    world.finish().await;
}

#[tokio::test]
async fn an_undecodable_event_is_parked_and_the_conversation_goes_on() {
    let world = World::start().await;
    let mut call = Call::new();
    call.append(&world.store, 0, Call::requested()).await;
    let js = async_nats::jetstream::new(world.store.client().clone());
    let publish = |subject: String, payload: &'static str| {
        let js = js.clone();
        async move {
            js.publish(subject, payload.into())
                .await
                .expect("publish")
                .await
                .expect("stored")
                .sequence
        }
    };
    let garbage = publish(format!("conv.{}", call.id), "{not json").await;
    call.set_version(garbage);
    let mut other = Call::new();
    other.append(&world.store, 0, Call::requested()).await;
    let unknown = publish(
        format!("conv.{}", other.id),
        r#"{"type":"conversation.unheard_of"}"#,
    )
    .await;
    call.append(&world.store, 100, Call::started()).await;
    assert_eq!(world.drain().await, 5);

    assert_eq!(
        world.document(call.id).await.get_str("status"),
        Ok("in-progress")
    );
    assert_eq!(
        world.document(other.id).await.get_str("status"),
        Ok("initiated")
    );
    let parked = projector::parked::Parked::new(&world.db)
        .list()
        .await
        .expect("parked");
    let sequences: Vec<_> = parked.iter().map(|p| p.get_i64("sequence")).collect();
    let expected = [garbage, unknown].map(|s| Ok(i64::try_from(s).unwrap_or(0)));
    assert_eq!(sequences, expected, "{parked:?}");
    assert!(
        parked
            .iter()
            .all(|p| p.get_str("error").is_ok_and(|e| e.contains("undecodable")))
    );

    // Replayed again, the event is parked once.
    let again = Projector::start(
        &world.store,
        Conversations::new(&world.db, &Names::suffixed("_again")),
    )
    .await
    .expect("again");
    again.drain().await.expect("drain");
    let parked = projector::parked::Parked::new(&world.db)
        .list()
        .await
        .expect("parked");
    assert_eq!(parked.len(), 2);
    world.finish().await;
}
