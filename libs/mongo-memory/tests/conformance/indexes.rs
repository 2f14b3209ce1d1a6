//! `createIndexes`, `listIndexes`, `dropIndexes`, and unique indexes enforced.

use futures::TryStreamExt;
use mongodb::IndexModel;
use mongodb::bson::doc;
use mongodb::options::IndexOptions;

use crate::target::{Target, error_code, error_message};

fn unique(key: mongodb::bson::Document) -> IndexModel {
    IndexModel::builder()
        .keys(key)
        .options(IndexOptions::builder().unique(true).build())
        .build()
}

#[tokio::test]
async fn unique_index_refuses_a_duplicate_insert_naming_the_key() {
    let t = Target::start().await;
    let coll = t.coll("users");
    coll.create_index(unique(doc! { "email": 1 }))
        .await
        .expect("create index");
    coll.insert_one(doc! { "email": "a@x" })
        .await
        .expect("first");
    let error = coll
        .insert_one(doc! { "email": "a@x" })
        .await
        .expect_err("duplicate");
    assert_eq!(error_code(&error), Some(11000));
    let message = error_message(&error);
    assert!(
        message.contains("email_1") && message.contains("a@x"),
        "{message}"
    );
}

#[tokio::test]
async fn unique_index_refuses_an_update_into_a_taken_key() {
    let t = Target::start().await;
    let coll = t.coll("users");
    coll.create_index(unique(doc! { "email": 1 }))
        .await
        .expect("create index");
    coll.insert_many(vec![
        doc! { "_id": 1, "email": "a" },
        doc! { "_id": 2, "email": "b" },
    ])
    .await
    .expect("seed");
    let error = coll
        .update_one(doc! { "_id": 2 }, doc! { "$set": { "email": "a" } })
        .await
        .expect_err("taken");
    assert_eq!(error_code(&error), Some(11000));
    let unchanged = coll
        .find_one(doc! { "_id": 2 })
        .await
        .expect("find")
        .expect("doc");
    assert_eq!(unchanged.get_str("email"), Ok("b"));
}

#[tokio::test]
async fn unique_index_on_existing_duplicates_fails_to_build() {
    let t = Target::start().await;
    let coll = t.coll("users");
    coll.insert_many(vec![doc! { "n": 1 }, doc! { "n": 1 }])
        .await
        .expect("seed");
    let error = coll
        .create_index(unique(doc! { "n": 1 }))
        .await
        .expect_err("duplicates");
    assert_eq!(error_code(&error), Some(11000));
}

#[tokio::test]
async fn compound_unique_index_considers_all_fields() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.create_index(unique(doc! { "a": 1, "b": -1 }))
        .await
        .expect("create");
    coll.insert_one(doc! { "a": 1, "b": 1 })
        .await
        .expect("first");
    coll.insert_one(doc! { "a": 1, "b": 2 })
        .await
        .expect("differs in b");
    let error = coll
        .insert_one(doc! { "a": 1, "b": 1 })
        .await
        .expect_err("duplicate");
    assert_eq!(error_code(&error), Some(11000));
}

#[tokio::test]
async fn list_and_drop_indexes() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.create_index(IndexModel::builder().keys(doc! { "a": 1 }).build())
        .await
        .expect("a");
    coll.create_index(unique(doc! { "b": 1 })).await.expect("b");
    let mut names = coll.list_index_names().await.expect("names");
    names.sort();
    assert_eq!(names, vec!["_id_", "a_1", "b_1"]);
    let specs: Vec<IndexModel> = coll
        .list_indexes()
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("collect");
    let b = specs
        .iter()
        .find(|m| m.keys == doc! { "b": 1 })
        .expect("b index");
    assert_eq!(b.options.as_ref().and_then(|o| o.unique), Some(true));
    coll.drop_index("a_1").await.expect("drop a_1");
    assert_eq!(coll.list_index_names().await.expect("names").len(), 2);
    let error = coll.drop_index("a_1").await.expect_err("already dropped");
    assert_eq!(error_code(&error), Some(27));
    let error = coll.drop_index("_id_").await.expect_err("id index");
    assert_eq!(error_code(&error), Some(72));
    coll.drop_indexes().await.expect("drop all");
    assert_eq!(coll.list_index_names().await.expect("names"), vec!["_id_"]);
}

#[tokio::test]
async fn creating_an_existing_index_again_is_a_no_op() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.create_index(unique(doc! { "a": 1 }))
        .await
        .expect("first");
    coll.create_index(unique(doc! { "a": 1 }))
        .await
        .expect("again");
    assert_eq!(coll.list_index_names().await.expect("names").len(), 2);
}

#[tokio::test]
async fn list_indexes_on_a_missing_collection_is_namespace_not_found() {
    let t = Target::start().await;
    let error =
        t.db.run_command(doc! { "listIndexes": "missing" })
            .await
            .expect_err("missing");
    assert_eq!(error_code(&error), Some(26));
}
