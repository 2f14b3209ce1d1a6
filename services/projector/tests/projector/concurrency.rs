//! Two writers of one document at once (two copies, or the two streams)
//! never lose a change.

use eventstore::{ReplayFrom, StreamName};
use futures::TryStreamExt;
use mongodb::bson::Bson;
use projector::Conversations;
use projector::Tuning;
use projector::batch::Batcher;

use crate::support::{Call, World};

#[tokio::test]
async fn racing_writers_on_one_document_both_land() {
    let world = World::start().await;
    let mut call = Call::new();
    call.append(&world.store, 0, Call::requested()).await;
    call.append(&world.store, 10, Call::ended(60_000)).await;
    let captured = call.captured(6);
    call.append_ledger(&world.store, 20, captured).await;
    let store = &world.store;
    let read = |stream| async move {
        store
            .replay(stream, ReplayFrom::Beginning)
            .await
            .expect("replay")
            .try_collect::<Vec<_>>()
            .await
            .expect("read")
    };
    let conversation = read(StreamName::Conversations).await;
    let ledger = read(StreamName::Ledger).await;
    let live = Batcher::new(Conversations::live(&world.db), &Tuning::default());

    // Both find no document and race to create it; then they race again.
    tokio::join!(
        async {
            for message in &conversation {
                live.apply(&[(StreamName::Conversations, message.clone())])
                    .await
                    .expect("project conversation event");
            }
        },
        async {
            for message in &ledger {
                live.apply(&[(StreamName::Ledger, message.clone())])
                    .await
                    .expect("project ledger event");
            }
        },
    );
    let doc = world.document(call.id).await;
    assert_eq!(doc.get_str("status"), Ok("processing"));
    assert_eq!(doc.get("duration"), Some(&Bson::Int32(60)));
    assert_eq!(doc.get("cost"), Some(&Bson::Double(6.0)));
    let metrics = doc.get_document("metrics").expect("metrics");
    assert_eq!(metrics.get("costPerMinute"), Some(&Bson::Double(6.0)));
    let projection = doc.get_document("projection").expect("projection");
    assert_eq!(projection.get("version"), Some(&Bson::Int64(3)));
    world.finish().await;
}
