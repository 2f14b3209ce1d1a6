//! Rebuilding `conversations` from the log gives the documents the live
//! projection gave, in a collection swapped in whole.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use projector::Tuning;
use projector::rebuild::{Options, rebuild, rebuild_with};

use crate::support::{Call, World};

async fn all_documents(world: &World) -> Vec<Document> {
    documents_of(world, "conversations").await
}

async fn documents_of(world: &World, collection: &str) -> Vec<Document> {
    world
        .db
        .collection::<Document>(collection)
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read")
}

async fn a_finished_call(world: &World, ended_ms: u64) -> Call {
    let store = &world.store;
    let mut call = Call::new();
    call.append(store, 0, Call::requested()).await;
    call.append(store, 100, Call::started()).await;
    call.append(store, 200, Call::agent("Hi", 0, None, 1)).await;
    call.append(store, 1_200, Call::user("Bye", 1_000)).await;
    call.append(store, 1_500, Call::agent("Goodbye", 1_300, Some(300), 2))
        .await;
    call.append(store, 2_000, Call::ended(ended_ms)).await;
    let captured = call.captured(3);
    call.append_ledger(store, 2_100, captured).await;
    call
}

#[tokio::test]
async fn rebuild_reproduces_the_live_documents_and_drops_strays() {
    let world = World::start().await;
    let mut done = a_finished_call(&world, 61_000).await;
    done.append(&world.store, 9_000, Call::cost_reported(4, 61_000))
        .await;
    let adjusted = done.adjusted(3, 4);
    done.append_ledger(&world.store, 9_100, adjusted).await;
    a_finished_call(&world, 2_000).await;
    world.drain().await;
    let live = all_documents(&world).await;
    assert_eq!(live.len(), 2);
    let rollups = [
        "user_usage_daily",
        "user_usage_monthly",
        "agent_stats",
        "ledger_accounts",
        "ledger_entries",
    ];
    let mut live_rollups = Vec::new();
    for collection in rollups {
        live_rollups.push(documents_of(&world, collection).await);
    }

    let conversations = world.db.collection::<Document>("conversations");
    conversations
        .insert_one(doc! { "note": "not from the log" })
        .await
        .expect("stray insert");
    conversations
        .update_one(
            doc! { "_id": live[0].get_object_id("_id").expect("_id") },
            doc! { "$set": { "transcript": "tampered" } },
        )
        .await
        .expect("tamper");

    let rebuilt = rebuild(&world.store, &world.db).await.expect("rebuild");
    assert_eq!(
        rebuilt.events, 16,
        "9 events of the first call, 7 of the second"
    );
    assert_eq!(all_documents(&world).await, live);
    for (collection, before) in rollups.iter().zip(&live_rollups) {
        assert!(!before.is_empty(), "{collection}");
        assert_eq!(
            &documents_of(&world, collection).await,
            before,
            "{collection}"
        );
    }

    let indexes = conversations
        .list_index_names()
        .await
        .expect("list indexes");
    for name in [
        "_id_",
        "userId_1",
        "agentId_1",
        "userId_1_startedAt_-1",
        "startedAt_-1",
        "status_1",
        "metadata.elevenlabs_conversation_id_1",
        "userId_1_startedAt_-1__id_-1",
        "startedAt_-1__id_-1",
    ] {
        assert!(indexes.iter().any(|i| i == name), "{name} in {indexes:?}");
    }
    let mut leftovers = world.db.list_collection_names().await.expect("collections");
    leftovers.sort();
    assert_eq!(
        leftovers,
        [
            "agent_stats",
            "conversation_messages",
            "conversations",
            "ledger_accounts",
            "ledger_entries",
            "projector_checkpoints",
            "projector_control",
            "user_usage_daily",
            "user_usage_monthly",
        ]
    );

    let control = projector::control::Control::new(&world.db, "conversations");
    assert_eq!(
        control.state().await.expect("control").version,
        projector::control::PROJECTION_VERSION
    );

    // The live projection goes on into the swapped-in collection.
    let mut later = Call::new();
    later.append(&world.store, 0, Call::requested()).await;
    assert_eq!(world.drain().await, 1);
    assert!(world.raw(later.id).await.is_some());
    world.finish().await;
}

#[tokio::test]
async fn a_rebuild_in_batches_of_one_event_gives_the_same_documents() {
    let world = World::start().await;
    let mut first = a_finished_call(&world, 5_000).await;
    let second = a_finished_call(&world, 7_000).await;
    // Back to the first after the second was written out: it is read back.
    first
        .append(&world.store, 9_000, Call::cost_reported(2, 5_000))
        .await;
    let adjusted = first.adjusted(3, 2);
    first.append_ledger(&world.store, 9_100, adjusted).await;
    world.drain().await;
    let live = all_documents(&world).await;

    let tuning = Tuning {
        batch_events: 1,
        ..Tuning::default()
    };
    let options = Options {
        holder: "test".into(),
        ..Options::default()
    };
    let rebuilt = rebuild_with(&world.store, &world.db, tuning, &options, &mut |_| {})
        .await
        .expect("rebuild");
    assert_eq!(rebuilt.events, 16);
    assert_eq!(all_documents(&world).await, live);
    assert!(world.raw(second.id).await.is_some());
    world.finish().await;
}

#[tokio::test]
async fn the_service_loop_projects_until_shutdown() {
    let world = World::start().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let projector = &world.projector;
    let mut call = Call::new();
    let watch = async {
        call.append(&world.store, 0, Call::requested()).await;
        call.append(&world.store, 10, Call::ended(1_000)).await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        // The read model has no change feed: look again at a steady pace.
        let mut pace = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            pace.tick().await;
            let status = world
                .raw(call.id)
                .await
                .and_then(|d| d.get_str("status").ok().map(str::to_owned));
            if status.as_deref() == Some("processing") {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never projected: {status:?}"
            );
        }
        let _ = stop.send(());
    };
    let (run, ()) = tokio::join!(
        projector.run(async {
            let _ = stopped.await;
        }),
        watch
    );
    run.expect("projector run");
    world.finish().await;
}

#[tokio::test]
async fn a_rebuild_while_the_projector_runs_loses_no_event() {
    let world = World::start().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let test = async {
        let mut calls = Vec::new();
        for round in 0..6_u64 {
            let mut call = a_finished_call(&world, 1_000 + round).await;
            if round == 2 {
                // Mid-stream, with the projector running and a steady
                // stream of events written before, during and after the
                // pause and the swap.
                let (rebuilt_tx, mut rebuilt_rx) = tokio::sync::watch::channel(false);
                let rebuilding = async {
                    let rebuilt = rebuild(&world.store, &world.db).await;
                    let _ = rebuilt_tx.send(true);
                    rebuilt
                };
                let writing = async {
                    call.append(&world.store, 9_000, Call::cost_reported(5, 2_000))
                        .await;
                    let mut streamed = Vec::new();
                    let mut after_swap = 0;
                    while after_swap < 3 {
                        let mut more = Call::new();
                        more.append(&world.store, 0, Call::requested()).await;
                        more.append(&world.store, 100, Call::started()).await;
                        more.append(&world.store, 200, Call::agent("Hi", 0, None, 1))
                            .await;
                        more.append(&world.store, 2_000, Call::ended(2_000)).await;
                        let captured = more.captured(3);
                        more.append_ledger(&world.store, 2_100, captured).await;
                        streamed.push(more);
                        if *rebuilt_rx.borrow_and_update() {
                            after_swap += 1;
                        }
                    }
                    streamed
                };
                let (rebuilt, streamed) = tokio::join!(rebuilding, writing);
                rebuilt.expect("rebuild");
                calls.extend(streamed);
            }
            calls.push(call);
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut pace = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            pace.tick().await;
            let mut done = 0;
            for call in &calls {
                let charged = world
                    .raw(call.id)
                    .await
                    .is_some_and(|d| d.get_f64("cost") == Ok(3.0) || d.get_f64("cost") == Ok(5.0));
                done += usize::from(charged);
            }
            if done == calls.len() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{done} of {} projected",
                calls.len()
            );
        }
        let _ = stop.send(());
        calls.len()
    };
    let (run, calls_projected) = tokio::join!(
        world.projector.run(async {
            let _ = stopped.await;
        }),
        test
    );
    run.expect("projector run");
    let live = all_documents(&world).await;
    let alone = projector::Projector::start(
        &world.store,
        projector::Conversations::new(&world.db, &projector::names::Names::suffixed("_alone")),
    )
    .await
    .expect("single build");
    alone.drain().await.expect("drain");
    assert_eq!(documents_of(&world, "conversations_alone").await, live);
    assert_eq!(live.len(), calls_projected);
    let control = projector::control::Control::new(&world.db, "conversations");
    let stored = control.document().await.expect("control");
    assert_eq!(
        stored.get_document("writers").map(|w| w.len()),
        Ok(0),
        "every batch left: {stored}"
    );
    world.finish().await;
}

#[tokio::test]
async fn a_dry_run_reports_drift_and_an_as_of_view_stops_at_its_sequence() {
    let world = World::start().await;
    let first = a_finished_call(&world, 5_000).await;
    world.drain().await;
    let conversations = world.db.collection::<Document>("conversations");
    conversations
        .update_one(
            doc! { "_id": mongodb::bson::oid::ObjectId::from_bytes(first.id.bytes()) },
            doc! { "$set": { "transcript": "tampered" } },
        )
        .await
        .expect("tamper");
    let tampered = all_documents(&world).await;
    let options = Options {
        dry_run: true,
        holder: "test".into(),
        ..Options::default()
    };
    let rebuilt = rebuild_with(
        &world.store,
        &world.db,
        Tuning::default(),
        &options,
        &mut |_| {},
    )
    .await
    .expect("dry run");
    let drift = rebuilt
        .drift
        .iter()
        .find(|d| d.collection == "conversations")
        .expect("conversations drift");
    assert_eq!((drift.added, drift.removed, drift.changed), (0, 0, 1));
    assert_eq!(all_documents(&world).await, tampered);

    // As of the third conversation event: started, one message, no end.
    let view = Options {
        into: Some("audit".into()),
        to: Some(projector::consumer::Until::Sequence(3)),
        holder: "test".into(),
        ..Options::default()
    };
    rebuild_with(
        &world.store,
        &world.db,
        Tuning::default(),
        &view,
        &mut |_| {},
    )
    .await
    .expect("as-of view");
    let audit = documents_of(&world, "conversations_audit").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].get_str("status"), Ok("in-progress"));
    assert_eq!(audit[0].get_array("messages").map(Vec::len), Ok(1));
    world.finish().await;
}

#[tokio::test]
async fn one_rebuild_at_a_time_and_live_copies_see_the_pause() {
    let world = World::start().await;
    let control = projector::control::Control::new(&world.db, "conversations");
    assert!(control.lease("first").await.expect("lease"));
    assert!(!control.lease("second").await.expect("lease"));
    assert!(control.lease("first").await.expect("renew"));
    let before = control.state().await.expect("state");
    assert!(!before.paused);
    control.pause("first").await.expect("pause");
    let paused = control.state().await.expect("state");
    assert!(paused.paused);
    assert_ne!(paused.generation, before.generation);
    let refused = rebuild(&world.store, &world.db).await;
    assert!(
        matches!(refused, Err(projector::Error::RebuildBusy { .. })),
        "{refused:?}"
    );
    control.release("first", Some(7)).await.expect("release");
    let released = control.state().await.expect("state");
    assert!(!released.paused);
    assert_eq!(released.version, 7);
    assert!(control.lease("second").await.expect("lease"));
    world.finish().await;
}

#[tokio::test]
async fn a_pausing_rebuild_waits_for_the_batch_a_copy_entered_and_no_more_enter() {
    let world = World::start().await;
    let control = projector::control::Control::new(&world.db, "fresh_target");
    // No control document yet: entering creates it.
    assert!(control.enter("a-0", 0).await.expect("enter"));
    assert!(control.enter("b-0", 0).await.expect("enter"));
    control.leave("b-0").await.expect("leave");
    assert!(control.lease("rebuild").await.expect("lease"));
    assert!(
        control
            .enter("b-0", 0)
            .await
            .expect("a lease alone pauses nothing")
    );
    control.leave("b-0").await.expect("leave");
    control.pause("rebuild").await.expect("pause");
    assert!(!control.enter("b-0", 0).await.expect("paused"));
    let paused = control.state().await.expect("state");
    assert!(
        !control
            .enter("b-0", paused.generation)
            .await
            .expect("paused")
    );
    let leaving = std::cell::Cell::new(false);
    let ((), waited) = tokio::join!(
        async {
            tokio::task::yield_now().await;
            leaving.set(true);
            control.leave("a-0").await.expect("leave");
        },
        async {
            control.await_writers().await.expect("await writers");
            leaving.get()
        }
    );
    assert!(waited, "the rebuild went on while a-0 was mid-batch");
    let stored = control.document().await.expect("control");
    assert_eq!(stored.get_document("writers").map(|w| w.len()), Ok(0));
    control.release("rebuild", None).await.expect("release");
    let released = control.state().await.expect("state");
    assert!(!control.enter("a-0", 0).await.expect("an older generation"));
    assert!(
        control
            .enter("a-0", released.generation)
            .await
            .expect("resumed")
    );
    for writer in ["a-1", "ab-0"] {
        assert!(
            control
                .enter(writer, released.generation)
                .await
                .expect("enter")
        );
    }
    // Instance "a" restarted: its copies' entries are of the killed one.
    control.forget_writers("a").await.expect("forget");
    let stored = control.document().await.expect("control");
    let writers = stored.get_document("writers").expect("writers");
    assert_eq!(writers.keys().collect::<Vec<_>>(), ["ab-0"]);
    world.finish().await;
}

/// A call past the embedded messages (corrected and interrupted in its
/// overflow) beside a short one.
async fn an_overflowing_call(world: &World) -> Call {
    let mut call = Call::new();
    call.append(&world.store, 0, Call::requested()).await;
    call.append(&world.store, 10, Call::started()).await;
    let embedded = u64::try_from(projector::document::DEFAULT_EMBEDDED_MESSAGES).unwrap_or(0);
    let lines = (0..embedded + 40).map(|i| {
        let at = i64::try_from(i).unwrap_or(0) * 10 + 20;
        if i % 2 == 0 {
            (at, Call::user("great, thanks", i * 10))
        } else {
            (at, Call::agent("helo there", i * 10, Some(100 + i), i))
        }
    });
    call.append_pipelined(&world.store, lines).await;
    call.append(
        &world.store,
        9_000,
        Call::corrected(embedded + 1, "helo there", "hello there"),
    )
    .await;
    call.append(&world.store, 9_010, Call::interrupted(embedded + 3, 9_010))
        .await;
    call.append(&world.store, 9_020, Call::ended(9_020)).await;
    let captured = call.captured(6);
    call.append_ledger(&world.store, 9_100, captured).await;
    call
}

/// A rebuild by `tuning` that swaps in `projection`.
async fn rebuild_only(world: &World, tuning: Tuning, projection: projector::names::Projection) {
    let options = Options {
        holder: "test".into(),
        projection,
        ..Options::default()
    };
    rebuild_with(&world.store, &world.db, tuning, &options, &mut |_| {})
        .await
        .expect("rebuild");
}

const MODELS: [&str; 7] = [
    "conversations",
    "conversation_messages",
    "user_usage_daily",
    "user_usage_monthly",
    "agent_stats",
    "ledger_accounts",
    "ledger_entries",
];

async fn every_model(world: &World) -> Vec<Vec<Document>> {
    let mut models = Vec::new();
    for collection in MODELS {
        models.push(documents_of(world, collection).await);
    }
    models
}

#[tokio::test]
async fn a_rebuild_that_writes_out_midway_gives_the_live_documents_overflow_included() {
    let world = World::start().await;
    an_overflowing_call(&world).await;
    a_finished_call(&world, 3_000).await;
    world.drain().await;
    let live = every_model(&world).await;
    assert!(!live[1].is_empty(), "messages overflowed");
    // Written out every 50 events: later events read documents back.
    let tuning = Tuning {
        rebuild_held_events: 50,
        ..Tuning::default()
    };
    rebuild_only(&world, tuning, projector::names::Projection::All).await;
    let rebuilt = every_model(&world).await;
    for ((collection, before), after) in MODELS.iter().zip(&live).zip(&rebuilt) {
        assert_eq!(after, before, "{collection}");
    }
    rebuild(&world.store, &world.db)
        .await
        .expect("rebuild held whole");
    assert_eq!(every_model(&world).await, live);
    world.finish().await;
}

#[tokio::test]
async fn one_conversation_or_one_projection_is_rebuilt_alone() {
    let world = World::start().await;
    let long = an_overflowing_call(&world).await;
    let short = a_finished_call(&world, 3_000).await;
    world.drain().await;
    let live = every_model(&world).await;
    let key = |call: &Call| mongodb::bson::oid::ObjectId::from_bytes(call.id.bytes());
    let conversations = world.db.collection::<Document>("conversations");
    let overflow = world.db.collection::<Document>("conversation_messages");
    for call in [&long, &short] {
        conversations
            .update_one(
                doc! { "_id": key(call) },
                doc! { "$set": { "transcript": "tampered", "duration": 1 } },
            )
            .await
            .expect("tamper");
    }
    overflow
        .delete_one(doc! { "conversationId": key(&long), "index": 520_i64 })
        .await
        .expect("lose a message");
    overflow
        .insert_one(doc! { "_id": "stray", "conversationId": key(&long), "index": 9_999_i64 })
        .await
        .expect("stray message");
    world
        .db
        .collection::<Document>("user_usage_daily")
        .update_many(doc! {}, doc! { "$set": { "seconds": -1_i64 } })
        .await
        .expect("tamper usage");

    let replaced = projector::single::rebuild_conversation(
        &world.store,
        &world.db,
        &Tuning::default(),
        long.id,
    )
    .await
    .expect("rebuild one")
    .expect("its events");
    assert_eq!(replaced.overflow, 40);
    assert_eq!(documents_of(&world, "conversation_messages").await, live[1]);
    let long_now = world.document(long.id).await;
    let long_live = live[0]
        .iter()
        .find(|d| d.get_object_id("_id") == Ok(key(&long)));
    assert_eq!(Some(&long_now), long_live);
    assert_eq!(
        world.document(short.id).await.get_str("transcript"),
        Ok("tampered"),
        "the other conversation is left alone"
    );
    let none = projector::single::rebuild_conversation(
        &world.store,
        &world.db,
        &Tuning::default(),
        events::ConversationId::new(),
    )
    .await
    .expect("an unknown conversation");
    assert_eq!(none, None);

    rebuild_only(
        &world,
        Tuning::default(),
        projector::names::Projection::Conversations,
    )
    .await;
    assert_eq!(all_documents(&world).await, live[0]);
    // Refreshing the long call's rollups above mended its user's days only.
    let usage = documents_of(&world, "user_usage_daily").await;
    assert!(usage.iter().any(|d| d.get_i64("seconds") == Ok(-1)));
    // Agent statistics were refreshed from the short call while tampered.
    rebuild_only(
        &world,
        Tuning::default(),
        projector::names::Projection::Usage,
    )
    .await;
    rebuild_only(
        &world,
        Tuning::default(),
        projector::names::Projection::AgentStats,
    )
    .await;
    for ((collection, before), after) in MODELS.iter().zip(&live).zip(every_model(&world).await) {
        assert_eq!(&after, before, "{collection}");
    }
    world.finish().await;
}
