//! `insert`: generated ids, numeric types kept, ordered and unordered batches.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::ErrorKind;

use crate::target::{Target, error_code};

#[tokio::test]
async fn missing_id_is_generated_as_an_object_id_first() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let result = coll.insert_one(doc! { "a": 1 }).await.expect("insert");
    assert!(matches!(result.inserted_id, Bson::ObjectId(_)));
    let stored = coll
        .find_one(doc! {})
        .await
        .expect("find")
        .expect("one document");
    assert_eq!(stored.keys().next().map(String::as_str), Some("_id"));
    assert_eq!(stored.get("_id"), Some(&result.inserted_id));
}

#[tokio::test]
async fn numeric_types_are_preserved() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let original =
        doc! { "_id": 1, "i32": 7_i32, "i64": 7_i64, "f64": 7.0, "nested": { "n": 2_i64 } };
    coll.insert_one(original.clone()).await.expect("insert");
    let stored = coll.find_one(doc! { "_id": 1 }).await.expect("find");
    assert_eq!(stored, Some(original));
}

#[tokio::test]
async fn equal_numbers_of_different_types_are_duplicate_ids() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1 }).await.expect("first");
    let error = coll
        .insert_one(doc! { "_id": 1.0 })
        .await
        .expect_err("duplicate");
    assert_eq!(error_code(&error), Some(11000));
}

#[tokio::test]
async fn ordered_insert_stops_at_the_first_error() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let docs = vec![doc! { "_id": 1 }, doc! { "_id": 1 }, doc! { "_id": 2 }];
    let error = coll.insert_many(docs).await.expect_err("duplicate");
    let ErrorKind::InsertMany(failure) = *error.kind else {
        panic!("not an insert error: {error}")
    };
    let write_errors = failure.write_errors.expect("write errors");
    assert_eq!(write_errors.len(), 1);
    assert_eq!(write_errors[0].index, 1);
    assert_eq!(write_errors[0].code, 11000);
    assert_eq!(coll.count_documents(doc! {}).await.expect("count"), 1);
}

#[tokio::test]
async fn unordered_insert_continues_past_errors() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let docs = vec![
        doc! { "_id": 1 },
        doc! { "_id": 1 },
        doc! { "_id": 2 },
        doc! { "_id": 2 },
        doc! { "_id": 3 },
    ];
    let error = coll
        .insert_many(docs)
        .ordered(false)
        .await
        .expect_err("duplicates");
    let ErrorKind::InsertMany(failure) = *error.kind else {
        panic!("not an insert error: {error}")
    };
    let indexes: Vec<usize> = failure
        .write_errors
        .expect("write errors")
        .iter()
        .map(|e| e.index)
        .collect();
    assert_eq!(indexes, vec![1, 3]);
    let ids: Vec<Document> = coll
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect");
    assert_eq!(
        ids,
        vec![doc! { "_id": 1 }, doc! { "_id": 2 }, doc! { "_id": 3 }]
    );
}

#[tokio::test]
async fn insert_many_keeps_insertion_order() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let docs: Vec<Document> = [5, 3, 9, 1].iter().map(|n| doc! { "_id": n }).collect();
    coll.insert_many(docs.clone()).await.expect("insert");
    let found: Vec<Document> = coll
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect");
    assert_eq!(found, docs);
}

#[tokio::test]
async fn duplicate_key_error_names_collection_index_and_key() {
    let t = Target::start().await;
    let coll = t.coll("people");
    coll.insert_one(doc! { "_id": "ann" }).await.expect("first");
    let error = coll
        .insert_one(doc! { "_id": "ann" })
        .await
        .expect_err("duplicate");
    let message = crate::target::error_message(&error);
    assert!(message.contains("E11000"), "{message}");
    assert!(message.contains(&t.ns("people")), "{message}");
    assert!(message.contains("_id_"), "{message}");
    assert!(message.contains("ann"), "{message}");
}
