//! `find`: sort, skip, limit, batches across `getMore`, type order in sorts.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};

use crate::target::{Target, error_code};

async fn ids(cursor: mongodb::Cursor<Document>) -> Vec<Bson> {
    let docs: Vec<Document> = cursor.try_collect().await.expect("collect");
    docs.into_iter()
        .map(|d| d.get("_id").cloned().expect("_id"))
        .collect()
}

async fn seeded(t: &Target, n: i32) -> mongodb::Collection<Document> {
    let coll = t.coll("c");
    let docs: Vec<Document> = (0..n).map(|i| doc! { "_id": i, "v": i % 3 }).collect();
    coll.insert_many(docs).await.expect("seed");
    coll
}

#[tokio::test]
async fn small_batches_cross_get_more_and_see_every_document_once() {
    let t = Target::start().await;
    let coll = seeded(&t, 25).await;
    let found = ids(coll.find(doc! {}).batch_size(4).await.expect("find")).await;
    assert_eq!(found, (0..25).map(Bson::Int32).collect::<Vec<_>>());
}

#[tokio::test]
async fn limit_and_batch_size_together_stop_at_the_limit() {
    let t = Target::start().await;
    let coll = seeded(&t, 25).await;
    let found = ids(coll
        .find(doc! {})
        .batch_size(3)
        .limit(10)
        .await
        .expect("find"))
    .await;
    assert_eq!(found.len(), 10);
}

#[tokio::test]
async fn sort_skip_limit_compose() {
    let t = Target::start().await;
    let coll = seeded(&t, 10).await;
    let found = ids(coll
        .find(doc! {})
        .sort(doc! { "v": -1, "_id": 1 })
        .skip(2)
        .limit(3)
        .await
        .expect("find"))
    .await;
    // v: 2 for 2,5,8; v: 1 for 1,4,7 — after skipping 2 the next three are 8, 1, 4.
    assert_eq!(found, vec![Bson::Int32(8), Bson::Int32(1), Bson::Int32(4)]);
}

#[tokio::test]
async fn negative_limit_returns_a_single_batch() {
    let t = Target::start().await;
    let coll = seeded(&t, 10).await;
    let found = ids(coll.find(doc! {}).limit(-3).await.expect("find")).await;
    assert_eq!(found.len(), 3);
}

#[tokio::test]
async fn sort_follows_the_bson_type_order() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let docs = vec![
        doc! { "_id": 1, "a": "text" },
        doc! { "_id": 2, "a": 5_i64 },
        doc! { "_id": 3, "a": { "x": 1 } },
        doc! { "_id": 4, "a": null },
        doc! { "_id": 5, "a": 2.5 },
        doc! { "_id": 6 },
        doc! { "_id": 7, "a": true },
        doc! { "_id": 8, "a": 3 },
    ];
    coll.insert_many(docs).await.expect("insert");
    let found = ids(coll
        .find(doc! {})
        .sort(doc! { "a": 1, "_id": 1 })
        .await
        .expect("find"))
    .await;
    let expected: Vec<Bson> = [4, 6, 5, 8, 2, 1, 3, 7]
        .into_iter()
        .map(Bson::Int32)
        .collect();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn find_on_a_missing_collection_is_empty() {
    let t = Target::start().await;
    let found = ids(t.coll("nothing").find(doc! {}).await.expect("find")).await;
    assert!(found.is_empty());
}

#[tokio::test]
async fn hint_naming_no_index_is_refused() {
    let t = Target::start().await;
    let coll = seeded(&t, 3).await;
    let error = coll
        .find(doc! {})
        .hint(mongodb::options::Hint::Name("nope_1".into()))
        .await
        .expect_err("bad hint");
    assert_eq!(error_code(&error), Some(2));
}

#[tokio::test]
async fn kill_cursors_frees_an_open_cursor() {
    let t = Target::start().await;
    seeded(&t, 10).await;
    let reply =
        t.db.run_command(doc! { "find": "c", "batchSize": 2 })
            .await
            .expect("find");
    let id = reply
        .get_document("cursor")
        .and_then(|c| c.get_i64("id"))
        .expect("cursor id is an Int64");
    assert_ne!(id, 0);
    let killed =
        t.db.run_command(doc! { "killCursors": "c", "cursors": [id] })
            .await
            .expect("kill");
    assert_eq!(
        killed.get_array("cursorsKilled").expect("killed"),
        &vec![Bson::Int64(id)]
    );
    let error =
        t.db.run_command(doc! { "getMore": id, "collection": "c" })
            .await
            .expect_err("gone");
    assert_eq!(error_code(&error), Some(43));
}
