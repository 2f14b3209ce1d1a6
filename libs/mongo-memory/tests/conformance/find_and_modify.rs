//! `findAndModify` through the driver's find_one_and_* helpers and raw.

use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use crate::target::{Target, error_code};

async fn seeded(t: &Target) -> mongodb::Collection<Document> {
    let coll = t.coll("c");
    coll.insert_many(vec![
        doc! { "_id": 1, "q": "a", "n": 3 },
        doc! { "_id": 2, "q": "a", "n": 1 },
    ])
    .await
    .expect("seed");
    coll
}

#[tokio::test]
async fn update_returns_before_or_after_in_sort_order() {
    let t = Target::start().await;
    let coll = seeded(&t).await;
    let before = coll
        .find_one_and_update(doc! { "q": "a" }, doc! { "$inc": { "n": 10 } })
        .sort(doc! { "n": 1 })
        .await
        .expect("update");
    assert_eq!(before, Some(doc! { "_id": 2, "q": "a", "n": 1 }));
    let after = coll
        .find_one_and_update(doc! { "_id": 1 }, doc! { "$set": { "n": 0 } })
        .return_document(ReturnDocument::After)
        .projection(doc! { "n": 1, "_id": 0 })
        .await
        .expect("update");
    assert_eq!(after, Some(doc! { "n": 0 }));
}

#[tokio::test]
async fn upsert_through_find_and_modify_reports_the_new_id() {
    let t = Target::start().await;
    seeded(&t).await;
    let reply =
        t.db.run_command(doc! {
            "findAndModify": "c",
            "query": { "_id": 9 },
            "update": { "$set": { "q": "z" } },
            "upsert": true,
            "new": true,
        })
        .await
        .expect("upsert");
    let last = reply
        .get_document("lastErrorObject")
        .expect("lastErrorObject");
    assert_eq!(last.get_i32("n"), Ok(1));
    assert_eq!(last.get_bool("updatedExisting"), Ok(false));
    assert_eq!(last.get("upserted"), Some(&Bson::Int32(9)));
    assert_eq!(
        reply.get_document("value"),
        Ok(&doc! { "_id": 9, "q": "z" })
    );

    let reply = t
        .db
        .run_command(doc! { "findAndModify": "c", "query": { "_id": 9 }, "update": { "$set": { "q": "y" } } })
        .await
        .expect("update");
    let last = reply
        .get_document("lastErrorObject")
        .expect("lastErrorObject");
    assert_eq!(last.get_bool("updatedExisting"), Ok(true));
    assert_eq!(
        reply.get_document("value"),
        Ok(&doc! { "_id": 9, "q": "z" }),
        "old value by default"
    );
}

#[tokio::test]
async fn no_match_without_upsert_returns_null() {
    let t = Target::start().await;
    let coll = seeded(&t).await;
    let none = coll
        .find_one_and_update(doc! { "q": "none" }, doc! { "$set": { "x": 1 } })
        .await
        .expect("update");
    assert_eq!(none, None);
    assert_eq!(coll.count_documents(doc! {}).await.expect("count"), 2);
}

#[tokio::test]
async fn replace_and_delete() {
    let t = Target::start().await;
    let coll = seeded(&t).await;
    let replaced = coll
        .find_one_and_replace(doc! { "_id": 1 }, doc! { "r": true })
        .return_document(ReturnDocument::After)
        .await
        .expect("replace");
    assert_eq!(replaced, Some(doc! { "_id": 1, "r": true }));
    let deleted = coll
        .find_one_and_delete(doc! { "q": "a" })
        .await
        .expect("delete");
    assert_eq!(deleted, Some(doc! { "_id": 2, "q": "a", "n": 1 }));
    assert_eq!(coll.count_documents(doc! {}).await.expect("count"), 1);
}

#[tokio::test]
async fn remove_together_with_update_is_refused() {
    let t = Target::start().await;
    seeded(&t).await;
    let error = t
        .db
        .run_command(doc! { "findAndModify": "c", "query": {}, "remove": true, "update": { "$set": { "a": 1 } } })
        .await
        .expect_err("conflicting");
    assert!(error_code(&error).is_some());
}
