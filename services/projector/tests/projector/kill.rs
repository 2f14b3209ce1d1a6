//! The real `projector` binary killed with SIGKILL in the middle of a
//! rebuild (it starts one itself: the stored read models have no
//! projection version), and again in the middle of live projection;
//! restarted each time, it ends with the documents one uninterrupted build
//! makes.

use std::process::Stdio;
use std::time::Duration;

use eventstore::StreamName;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use projector::checkpoint::Checkpoints;
use projector::control::{Control, PROJECTION_VERSION};
use projector::names::{self, Names};
use projector::{Conversations, Projector};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::support::{Call, World};

/// Calls in the log before the first start, and messages in each.
const CALLS: u64 = 8;
const MESSAGES: u64 = 4_000;
/// Messages of the call written while the projector runs live.
const LIVE_MESSAGES: u64 = 20_000;
/// How long any stage may take before the test gives up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);
const PACE: Duration = Duration::from_millis(20);

fn spawn(world: &World) -> Child {
    Command::new(env!("CARGO_BIN_EXE_projector"))
        .env("NATS_URL", world.nats_url())
        .env("MONGODB_URI", world.mongo_uri())
        .env("MONGODB_DATABASE", world.db.name())
        .env("PARLOR_PROJECTOR_INSTANCE", "kill-test")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("projector binary")
}

async fn kill(child: &mut Child) {
    // tokio's kill is SIGKILL: no shutdown path runs.
    child.kill().await.expect("kill -9");
}

async fn until<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + GIVE_UP_AFTER;
    let mut pace = tokio::time::interval(PACE);
    loop {
        pace.tick().await;
        if probe().await {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not by the deadline");
    }
}

async fn count(world: &World, collection: &str) -> u64 {
    world
        .db
        .collection::<Document>(collection)
        .count_documents(doc! {})
        .await
        .expect("count")
}

async fn all(world: &World, collection: &str) -> Vec<Document> {
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

async fn a_call(world: &World, messages: u64) -> Call {
    let mut call = Call::new();
    write_call(world, &mut call, messages).await;
    call
}

async fn write_call(world: &World, call: &mut Call, messages: u64) {
    call.append(&world.store, 0, Call::requested()).await;
    call.append(&world.store, 100, Call::started()).await;
    for first in (0..messages).step_by(1_000) {
        let lines = (first..(first + 1_000).min(messages)).map(|i| {
            let ms = i64::try_from(i).unwrap_or(0) * 10 + 200;
            (
                ms,
                Call::agent(&format!("line {i}"), i * 10, Some(100 + i % 50), i),
            )
        });
        call.append_pipelined(&world.store, lines).await;
    }
}

fn message_count(doc: &Document) -> i32 {
    doc.get_document("metrics")
        .and_then(|m| m.get_i32("messageCount"))
        .unwrap_or(0)
}

#[tokio::test]
async fn killed_mid_rebuild_and_mid_projection_it_ends_in_the_same_documents() {
    let world = World::start().await;
    for _ in 0..CALLS {
        a_call(&world, MESSAGES).await;
    }
    // Read models projected by a build that recorded no version: the
    // binary finds them older than its own and rebuilds them.
    world.drain().await;
    let control = Control::new(&world.db, names::CONVERSATIONS);

    let mut projector = spawn(&world);
    until("a rebuild under way", || async {
        count(&world, "conversations_rebuild").await > 0
    })
    .await;
    kill(&mut projector).await;
    let state = control.state().await.expect("control");
    assert!(
        state.version < PROJECTION_VERSION,
        "killed after the rebuild finished"
    );

    let mut projector = spawn(&world);
    until("the rebuild done", || async {
        control
            .state()
            .await
            .is_ok_and(|s| s.version == PROJECTION_VERSION)
    })
    .await;
    let mut call = Call::new();
    let id = call.id;
    let live_call = write_call(&world, &mut call, LIVE_MESSAGES);
    let killer = async {
        until("live projection under way", || async {
            world.raw(id).await.is_some_and(|d| message_count(&d) > 0)
        })
        .await;
        kill(&mut projector).await;
        message_count(&world.document(id).await)
    };
    let ((), seen) = tokio::join!(live_call, killer);
    assert!(
        i64::from(seen) < i64::try_from(LIVE_MESSAGES).unwrap_or(0),
        "killed after the live call was projected"
    );

    let mut projector = spawn(&world);
    let total = i32::try_from(LIVE_MESSAGES).unwrap_or(i32::MAX);
    until("the live call projected", || async {
        world
            .raw(id)
            .await
            .is_some_and(|d| message_count(&d) == total)
    })
    .await;
    let logged = projector::rebuild::log_size(&world.store)
        .await
        .expect("log size");
    let checkpoints = Checkpoints::new(&world.db, names::CONVERSATIONS);
    until("every batch checkpointed", || async {
        let mut at = 0;
        for stream in StreamName::ALL {
            at += checkpoints.load(stream).await.unwrap_or(0);
        }
        at == logged
    })
    .await;
    kill(&mut projector).await;

    let expected = Names::suffixed("_expected");
    Projector::start(&world.store, Conversations::new(&world.db, &expected))
        .await
        .expect("uninterrupted build")
        .drain()
        .await
        .expect("drain");
    for base in names::ALL {
        assert_eq!(
            all(&world, base).await,
            all(&world, &expected.of(base)).await,
            "{base}"
        );
    }
    world.finish().await;
}
