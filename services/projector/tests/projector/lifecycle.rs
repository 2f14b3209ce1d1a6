//! One conversation from request to reconciled cost, checked at each stage.

use eventstore::{ReplayFrom, StreamName};
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document};
use projector::Conversations;
use projector::Tuning;
use projector::batch::Batcher;

use crate::support::{Call, World, assert_prisma_types};

fn metric(doc: &Document, name: &str) -> Bson {
    doc.get_document("metrics")
        .expect("metrics")
        .get(name)
        .cloned()
        .unwrap_or(Bson::Null)
}

fn message(doc: &Document, index: usize) -> Document {
    let messages = doc.get_array("messages").expect("messages");
    match messages.get(index) {
        Some(Bson::Document(m)) => m.clone(),
        other => panic!("message {index}: {other:?}"),
    }
}

#[tokio::test]
async fn a_conversation_is_projected_field_by_field_at_every_stage() {
    let world = World::start().await;
    let store = &world.store;
    let mut call = Call::new();

    call.append(store, 0, Call::requested()).await;
    assert_eq!(world.drain().await, 1);
    let doc = world.document(call.id).await;
    assert_prisma_types(&doc);
    assert_eq!(
        doc.get_object_id("_id").expect("_id").bytes(),
        call.id.bytes()
    );
    assert_eq!(
        doc.get_object_id("userId").expect("userId").bytes(),
        call.user.bytes()
    );
    assert_eq!(doc.get_str("agentId"), Ok("agent_projector_test"));
    assert_eq!(doc.get_str("status"), Ok("initiated"));
    assert_eq!(doc.get_str("transcript"), Ok(""));
    assert_eq!(doc.get("duration"), Some(&Bson::Int32(0)));
    assert_eq!(doc.get("cost"), Some(&Bson::Double(0.0)));
    assert_eq!(doc.get("startedAt"), Some(&Bson::DateTime(call.bson_at(0))));
    assert_eq!(doc.get("endedAt"), Some(&Bson::DateTime(call.bson_at(0))));
    assert_eq!(doc.get_array("messages").map(Vec::len), Ok(0));
    assert_eq!(metric(&doc, "totalLatency"), Bson::Int32(0));
    assert_eq!(metric(&doc, "averageLatency"), Bson::Double(0.0));
    assert_eq!(metric(&doc, "messageCount"), Bson::Int32(0));
    assert_eq!(metric(&doc, "creditsUsed"), Bson::Double(0.0));
    assert_eq!(metric(&doc, "costPerMinute"), Bson::Double(0.0));

    call.append(store, 400, Call::started()).await;
    call.append(
        store,
        500,
        Call::agent("Hello! How can I help?", 100, None, 1),
    )
    .await;
    call.append(store, 3_000, Call::user("I'd like a table for two.", 2_600))
        .await;
    call.append(
        store,
        3_450,
        Call::agent(
            "Of course, for which day and at what time?",
            3_050,
            Some(450),
            2,
        ),
    )
    .await;
    call.append(store, 4_000, Call::interrupted(2, 3_600)).await;
    call.append(
        store,
        4_000,
        Call::corrected(
            2,
            "Of course, for which day and at what time?",
            "Of course, for which day",
        ),
    )
    .await;
    call.append(store, 5_000, Call::user("Friday at eight.", 4_600))
        .await;
    call.append(
        store,
        5_650,
        Call::agent("Booked, see you Friday!", 5_250, Some(650), 3),
    )
    .await;
    assert_eq!(world.drain().await, 8);
    let doc = world.document(call.id).await;
    assert_prisma_types(&doc);
    assert_eq!(doc.get_str("status"), Ok("in-progress"));
    assert_eq!(
        doc.get("startedAt"),
        Some(&Bson::DateTime(call.bson_at(400)))
    );
    assert_eq!(
        doc.get("endedAt"),
        Some(&Bson::DateTime(call.bson_at(5_650)))
    );
    assert_eq!(
        doc.get_str("transcript"),
        Ok("agent: Hello! How can I help?\n\
            user: I'd like a table for two.\n\
            agent: Of course, for which day\n\
            user: Friday at eight.\n\
            agent: Booked, see you Friday!")
    );
    assert_eq!(doc.get("duration"), Some(&Bson::Int32(0)));
    assert_eq!(doc.get("cost"), Some(&Bson::Double(0.0)));
    let first = message(&doc, 0);
    assert_eq!(first.get_str("role"), Ok("agent"));
    assert_eq!(first.get("timeInCallSecs"), Some(&Bson::Int32(0)));
    assert_eq!(first.get("at"), Some(&Bson::DateTime(call.bson_at(500))));
    assert!(!first.contains_key("latencyMs"));
    assert!(!first.contains_key("interrupted"));
    let user = message(&doc, 1);
    assert_eq!(user.get_str("role"), Ok("user"));
    assert_eq!(user.get_str("message"), Ok("I'd like a table for two."));
    assert_eq!(user.get("timeInCallSecs"), Some(&Bson::Int32(2)));
    let cut = message(&doc, 2);
    assert_eq!(cut.get_str("message"), Ok("Of course, for which day"));
    assert_eq!(cut.get("latencyMs"), Some(&Bson::Int32(450)));
    assert_eq!(cut.get("interrupted"), Some(&Bson::Boolean(true)));
    assert_eq!(cut.get("timeInCallSecs"), Some(&Bson::Int32(3)));
    assert_eq!(metric(&doc, "totalLatency"), Bson::Int32(1_100));
    assert_eq!(metric(&doc, "averageLatency"), Bson::Double(550.0));
    assert_eq!(metric(&doc, "messageCount"), Bson::Int32(5));
    let metadata = doc.get_document("metadata").expect("metadata");
    assert_eq!(
        metadata.get_str("elevenlabs_conversation_id"),
        Ok("conv_el_projector")
    );
    assert_eq!(metadata.get_str("mode"), Ok("live"));

    call.append(store, 30_000, Call::ended(29_600)).await;
    assert_eq!(world.drain().await, 1);
    let doc = world.document(call.id).await;
    assert_prisma_types(&doc);
    assert_eq!(doc.get_str("status"), Ok("processing"));
    assert_eq!(doc.get("duration"), Some(&Bson::Int32(30)));
    assert_eq!(
        doc.get("endedAt"),
        Some(&Bson::DateTime(call.bson_at(30_000)))
    );
    let metadata = doc.get_document("metadata").expect("metadata");
    assert_eq!(metadata.get_str("termination_reason"), Ok("agent_ended"));

    let (captured, charged) = (call.captured(8), call.charged(2, 29_600));
    call.append_ledger(store, 30_100, captured).await;
    call.append_ledger(store, 30_100, charged).await;
    assert_eq!(world.drain().await, 2);
    let doc = world.document(call.id).await;
    assert_prisma_types(&doc);
    assert_eq!(doc.get_str("status"), Ok("processing"));
    assert_eq!(doc.get("cost"), Some(&Bson::Double(10.0)));
    assert_eq!(metric(&doc, "creditsUsed"), Bson::Double(10.0));
    assert_eq!(metric(&doc, "costPerMinute"), Bson::Double(20.0));
    assert_eq!(
        doc.get("endedAt"),
        Some(&Bson::DateTime(call.bson_at(30_000)))
    );

    call.append(store, 60_000, Call::cost_reported(12, 36_000))
        .await;
    let adjusted = call.adjusted(10, 12);
    call.append_ledger(store, 60_100, adjusted).await;
    assert_eq!(world.drain().await, 2);
    let done = world.document(call.id).await;
    assert_prisma_types(&done);
    assert_eq!(done.get_str("status"), Ok("done"));
    assert_eq!(done.get("duration"), Some(&Bson::Int32(36)));
    assert_eq!(done.get("cost"), Some(&Bson::Double(12.0)));
    assert_eq!(metric(&done, "creditsUsed"), Bson::Double(12.0));
    assert_eq!(metric(&done, "costPerMinute"), Bson::Double(20.0));
    assert_eq!(
        done.get("endedAt"),
        Some(&Bson::DateTime(call.bson_at(30_000)))
    );

    // Redelivery and replay: every event of both streams again, nothing changes.
    let live = Batcher::new(Conversations::live(&world.db), &Tuning::default());
    for stream in StreamName::ALL {
        let messages: Vec<_> = world
            .store
            .replay(stream, ReplayFrom::Beginning)
            .await
            .expect("replay")
            .try_collect()
            .await
            .expect("read");
        let batch: Vec<_> = messages.into_iter().map(|m| (stream, m)).collect();
        let applied = live.apply(&batch).await.expect("project");
        assert_eq!(applied.documents, 0);
        for single in &batch {
            let applied = live
                .apply(std::slice::from_ref(single))
                .await
                .expect("project");
            assert_eq!(applied.documents, 0);
        }
    }
    assert_eq!(world.document(call.id).await, done);
    assert_eq!(world.drain().await, 0);
    world.finish().await;
}

#[tokio::test]
async fn a_zero_length_call_costs_zero_per_minute() {
    let world = World::start().await;
    let mut call = Call::new();
    call.append(&world.store, 0, Call::requested()).await;
    call.append(&world.store, 100, Call::ended(0)).await;
    let charged = call.charged(1, 0);
    call.append_ledger(&world.store, 200, charged).await;
    call.append(&world.store, 300, Call::cost_reported(1, 0))
        .await;
    assert_eq!(world.drain().await, 4);
    let doc = world.document(call.id).await;
    assert_prisma_types(&doc);
    assert_eq!(doc.get("duration"), Some(&Bson::Int32(0)));
    assert_eq!(doc.get("cost"), Some(&Bson::Double(1.0)));
    assert_eq!(metric(&doc, "costPerMinute"), Bson::Double(0.0));
    assert_eq!(doc.get_str("status"), Ok("done"));
    world.finish().await;
}
