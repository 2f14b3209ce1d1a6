//! `aggregate`: the stages the read models use, cursors, and clear refusals.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};

use crate::target::{Target, error_code};

async fn sales(t: &Target) -> mongodb::Collection<Document> {
    let coll = t.coll("sales");
    coll.insert_many(vec![
        doc! { "_id": 1, "agent": "a", "secs": 30, "cost": 1.5, "tags": ["x", "y"] },
        doc! { "_id": 2, "agent": "b", "secs": 10_i64, "cost": 0.5, "tags": ["x"] },
        doc! { "_id": 3, "agent": "a", "secs": 20, "cost": 2.0, "tags": [] },
        doc! { "_id": 4, "agent": "c", "secs": 5, "cost": 1.0 },
    ])
    .await
    .expect("seed");
    coll
}

async fn run(coll: &mongodb::Collection<Document>, pipeline: Vec<Document>) -> Vec<Document> {
    coll.aggregate(pipeline)
        .await
        .expect("aggregate")
        .try_collect()
        .await
        .expect("collect")
}

#[tokio::test]
async fn group_accumulators() {
    let t = Target::start().await;
    let coll = sales(&t).await;
    let out = run(
        &coll,
        vec![
            doc! { "$match": { "agent": { "$in": ["a", "b"] } } },
            doc! { "$sort": { "_id": 1 } },
            doc! { "$group": {
                "_id": "$agent",
                "calls": { "$sum": 1 },
                "secs": { "$sum": "$secs" },
                "avg": { "$avg": "$cost" },
                "min": { "$min": "$secs" },
                "max": { "$max": "$secs" },
                "first": { "$first": "$_id" },
                "last": { "$last": "$_id" },
                "ids": { "$push": "$_id" },
            } },
            doc! { "$sort": { "_id": 1 } },
        ],
    )
    .await;
    assert_eq!(
        out[0],
        doc! { "_id": "a", "calls": 2, "secs": 50, "avg": 1.75, "min": 20, "max": 30, "first": 1, "last": 3, "ids": [1, 3] }
    );
    assert_eq!(
        out[1].get("secs"),
        Some(&Bson::Int64(10)),
        "a sum of longs is a long"
    );
    assert_eq!(out.len(), 2);
}

#[tokio::test]
async fn sort_skip_limit_count() {
    let t = Target::start().await;
    let coll = sales(&t).await;
    let out = run(
        &coll,
        vec![
            doc! { "$sort": { "secs": -1 } },
            doc! { "$skip": 1 },
            doc! { "$limit": 2 },
        ],
    )
    .await;
    let ids: Vec<i32> = out.iter().map(|d| d.get_i32("_id").expect("_id")).collect();
    assert_eq!(ids, vec![3, 2]);
    let counted = run(
        &coll,
        vec![
            doc! { "$match": { "cost": { "$gte": 1 } } },
            doc! { "$count": "n" },
        ],
    )
    .await;
    assert_eq!(counted, vec![doc! { "n": 3 }]);
    let none = run(
        &coll,
        vec![
            doc! { "$match": { "agent": "zzz" } },
            doc! { "$count": "n" },
        ],
    )
    .await;
    assert!(none.is_empty(), "$count of nothing yields no document");
}

#[tokio::test]
async fn project_add_fields_and_unwind() {
    let t = Target::start().await;
    let coll = sales(&t).await;
    let out = run(
        &coll,
        vec![
            doc! { "$match": { "_id": 1 } },
            doc! { "$addFields": { "mins": { "$divide": ["$secs", 60] }, "label": { "$concat": ["agent-", "$agent"] } } },
            doc! { "$project": { "_id": 0, "mins": 1, "label": 1, "tags": 1 } },
            doc! { "$unwind": "$tags" },
        ],
    )
    .await;
    assert_eq!(
        out,
        vec![
            doc! { "tags": "x", "mins": 0.5, "label": "agent-a" },
            doc! { "tags": "y", "mins": 0.5, "label": "agent-a" },
        ]
    );
}

#[tokio::test]
async fn count_documents_goes_through_aggregate() {
    let t = Target::start().await;
    let coll = sales(&t).await;
    assert_eq!(
        coll.count_documents(doc! { "agent": "a" })
            .await
            .expect("count"),
        2
    );
    assert_eq!(
        coll.count_documents(doc! {})
            .skip(1)
            .limit(2)
            .await
            .expect("count"),
        2
    );
    assert_eq!(
        t.coll("missing")
            .count_documents(doc! {})
            .await
            .expect("count"),
        0
    );
}

#[tokio::test]
async fn results_cross_get_more_with_a_small_batch_size() {
    let t = Target::start().await;
    let coll = t.coll("many");
    coll.insert_many((0..30).map(|i| doc! { "_id": i }))
        .await
        .expect("seed");
    let out: Vec<Document> = coll
        .aggregate(vec![doc! { "$sort": { "_id": -1 } }])
        .batch_size(4)
        .await
        .expect("aggregate")
        .try_collect()
        .await
        .expect("collect");
    assert_eq!(out.len(), 30);
    assert_eq!(out[0], doc! { "_id": 29 });
}

#[tokio::test]
async fn unknown_stage_is_refused() {
    let t = Target::start().await;
    let coll = sales(&t).await;
    let error = coll
        .aggregate(vec![doc! { "$frobnicate": {} }])
        .await
        .expect_err("unknown stage");
    assert!(error_code(&error).is_some(), "{error}");
}

#[tokio::test]
async fn cross_collection_stages_are_refused_by_mongo_memory() {
    if std::env::var("PARLOR_TEST_MONGODB_URI").is_ok() {
        // Real MongoDB serves them; the refusal is mongo-memory's own.
        return;
    }
    let t = Target::start().await;
    let coll = sales(&t).await;
    for stage in [
        doc! { "$out": "copy" },
        doc! { "$lookup": { "from": "x", "localField": "a", "foreignField": "b", "as": "c" } },
    ] {
        let error = coll.aggregate(vec![stage]).await.expect_err("refused");
        assert_eq!(error_code(&error), Some(238), "{error}");
    }
}
