//! `create`, `drop`, `dropDatabase`, `listCollections`, `listDatabases`, `renameCollection`.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

use crate::target::{Target, error_code};

#[tokio::test]
async fn create_lists_and_refuses_an_existing_name() {
    let t = Target::start().await;
    t.db.create_collection("a").await.expect("create");
    t.coll("b")
        .insert_one(doc! { "x": 1 })
        .await
        .expect("implicit create");
    let mut names = t.db.list_collection_names().await.expect("names");
    names.sort();
    assert_eq!(names, vec!["a", "b"]);
    let error = t.db.create_collection("a").await.expect_err("exists");
    assert_eq!(error_code(&error), Some(48));
    let filtered =
        t.db.list_collection_names()
            .filter(doc! { "name": "b" })
            .await
            .expect("filtered");
    assert_eq!(filtered, vec!["b"]);
}

#[tokio::test]
async fn drop_removes_a_collection_and_its_documents() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "x": 1 }).await.expect("insert");
    coll.drop().await.expect("drop");
    assert!(
        t.db.list_collection_names()
            .await
            .expect("names")
            .is_empty()
    );
    assert_eq!(coll.count_documents(doc! {}).await.expect("count"), 0);
    t.coll("never")
        .drop()
        .await
        .expect("dropping a missing collection succeeds");
}

#[tokio::test]
async fn databases_are_listed_and_dropped() {
    let t = Target::start().await;
    t.coll("c")
        .insert_one(doc! { "x": 1 })
        .await
        .expect("insert");
    let names = t.client.list_database_names().await.expect("names");
    assert!(names.iter().any(|n| n == t.db.name()), "{names:?}");
    t.db.drop().await.expect("drop database");
    let names = t.client.list_database_names().await.expect("names");
    assert!(!names.iter().any(|n| n == t.db.name()), "{names:?}");
}

async fn rename(
    t: &Target,
    from: &str,
    to: &str,
    drop_target: bool,
) -> mongodb::error::Result<Document> {
    t.client
        .database("admin")
        .run_command(
            doc! { "renameCollection": t.ns(from), "to": t.ns(to), "dropTarget": drop_target },
        )
        .await
}

#[tokio::test]
async fn rename_moves_documents_and_indexes() {
    let t = Target::start().await;
    let coll = t.coll("green");
    coll.insert_many(vec![doc! { "_id": 1 }, doc! { "_id": 2 }])
        .await
        .expect("seed");
    coll.create_index(mongodb::IndexModel::builder().keys(doc! { "a": 1 }).build())
        .await
        .expect("index");
    rename(&t, "green", "live", false).await.expect("rename");
    let moved: Vec<Document> = t
        .coll("live")
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect");
    assert_eq!(moved, vec![doc! { "_id": 1 }, doc! { "_id": 2 }]);
    assert_eq!(
        t.coll("live")
            .list_index_names()
            .await
            .expect("indexes")
            .len(),
        2
    );
    assert_eq!(
        t.db.list_collection_names().await.expect("names"),
        vec!["live"]
    );
}

#[tokio::test]
async fn rename_onto_an_existing_collection_needs_drop_target() {
    let t = Target::start().await;
    t.coll("green")
        .insert_one(doc! { "_id": "new" })
        .await
        .expect("green");
    t.coll("live")
        .insert_one(doc! { "_id": "old" })
        .await
        .expect("live");
    let error = rename(&t, "green", "live", false)
        .await
        .expect_err("target exists");
    assert_eq!(error_code(&error), Some(48));
    rename(&t, "green", "live", true)
        .await
        .expect("rename with dropTarget");
    let live: Vec<Document> = t
        .coll("live")
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect");
    assert_eq!(live, vec![doc! { "_id": "new" }]);
    assert_eq!(
        t.db.list_collection_names().await.expect("names"),
        vec!["live"]
    );
}

#[tokio::test]
async fn rename_of_a_missing_collection_is_namespace_not_found() {
    let t = Target::start().await;
    t.coll("other")
        .insert_one(doc! {})
        .await
        .expect("database exists");
    let error = rename(&t, "missing", "live", true)
        .await
        .expect_err("missing");
    assert_eq!(error_code(&error), Some(26));
}

#[tokio::test]
async fn rename_outside_admin_is_refused() {
    let t = Target::start().await;
    t.coll("a").insert_one(doc! {}).await.expect("insert");
    let error =
        t.db.run_command(doc! { "renameCollection": t.ns("a"), "to": t.ns("b") })
            .await
            .expect_err("not admin");
    assert_eq!(error_code(&error), Some(13));
}
