//! `delete`, `count`, `distinct`.

use mongodb::bson::{Bson, doc};

use crate::target::Target;

async fn seeded(t: &Target) -> mongodb::Collection<mongodb::bson::Document> {
    let coll = t.coll("c");
    coll.insert_many(vec![
        doc! { "_id": 1, "k": "a", "tags": ["x", "y"] },
        doc! { "_id": 2, "k": "b", "tags": ["y"] },
        doc! { "_id": 3, "k": "a", "tags": [] },
        doc! { "_id": 4, "k": 1 },
        doc! { "_id": 5, "k": 1.0 },
    ])
    .await
    .expect("seed");
    coll
}

#[tokio::test]
async fn delete_one_removes_only_the_first_match() {
    let t = Target::start().await;
    let coll = seeded(&t).await;
    let result = coll.delete_one(doc! { "k": "a" }).await.expect("delete");
    assert_eq!(result.deleted_count, 1);
    assert_eq!(
        coll.count_documents(doc! { "k": "a" })
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn delete_many_removes_every_match() {
    let t = Target::start().await;
    let coll = seeded(&t).await;
    let result = coll.delete_many(doc! { "k": "a" }).await.expect("delete");
    assert_eq!(result.deleted_count, 2);
    let none = coll
        .delete_many(doc! { "k": "zzz" })
        .await
        .expect("delete nothing");
    assert_eq!(none.deleted_count, 0);
    assert_eq!(coll.count_documents(doc! {}).await.expect("count"), 3);
}

#[tokio::test]
async fn count_command_honours_query_skip_and_limit() {
    let t = Target::start().await;
    seeded(&t).await;
    let reply =
        t.db.run_command(doc! { "count": "c", "query": { "k": "a" } })
            .await
            .expect("count");
    assert_eq!(reply.get_i32("n"), Ok(2));
    let reply =
        t.db.run_command(doc! { "count": "c", "skip": 1, "limit": 3 })
            .await
            .expect("count");
    assert_eq!(reply.get_i32("n"), Ok(3));
    assert_eq!(
        t.coll("c")
            .estimated_document_count()
            .await
            .expect("estimate"),
        5
    );
    assert_eq!(
        t.coll("missing")
            .estimated_document_count()
            .await
            .expect("estimate"),
        0
    );
}

#[tokio::test]
async fn distinct_unwinds_arrays_and_merges_equal_numbers() {
    let t = Target::start().await;
    let coll = seeded(&t).await;
    let tags = coll.distinct("tags", doc! {}).await.expect("distinct");
    assert_eq!(
        tags,
        vec![Bson::String("x".into()), Bson::String("y".into())]
    );
    let keys = coll.distinct("k", doc! {}).await.expect("distinct");
    assert_eq!(keys.len(), 3, "{keys:?}");
    let filtered = coll
        .distinct("k", doc! { "_id": { "$lt": 3 } })
        .await
        .expect("distinct");
    assert_eq!(
        filtered,
        vec![Bson::String("a".into()), Bson::String("b".into())]
    );
}
