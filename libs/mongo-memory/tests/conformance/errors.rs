//! Options and requests that are refused instead of silently ignored.

use mongodb::bson::doc;

use crate::target::{Target, error_code, error_message};

#[tokio::test]
async fn an_unknown_command_field_is_named_in_the_error() {
    let t = Target::start().await;
    let error =
        t.db.run_command(doc! { "find": "c", "filter": {}, "bogusOption": 1 })
            .await
            .expect_err("unknown field");
    assert_eq!(error_code(&error), Some(40415));
    assert!(
        error_message(&error).contains("bogusOption"),
        "{}",
        error_message(&error)
    );
}

#[tokio::test]
async fn aggregate_without_cursor_is_refused() {
    let t = Target::start().await;
    let error =
        t.db.run_command(doc! { "aggregate": "c", "pipeline": [] })
            .await
            .expect_err("cursor required");
    assert_eq!(error_code(&error), Some(9));
}

#[tokio::test]
async fn delete_limit_other_than_zero_or_one_is_refused() {
    let t = Target::start().await;
    let reply =
        t.db.run_command(doc! { "delete": "c", "deletes": [{ "q": {}, "limit": 5 }] })
            .await;
    // MongoDB reports this as a command error or a write error depending on version.
    let refused = match reply {
        Err(error) => error_code(&error).is_some(),
        Ok(reply) => reply.get_array("writeErrors").is_ok(),
    };
    assert!(refused);
}

#[tokio::test]
async fn collation_is_refused_by_mongo_memory() {
    if std::env::var("PARLOR_TEST_MONGODB_URI").is_ok() {
        return; // Real MongoDB implements collations.
    }
    let t = Target::start().await;
    let error =
        t.db.run_command(doc! { "find": "c", "collation": { "locale": "fr" } })
            .await
            .expect_err("collation");
    assert_eq!(error_code(&error), Some(238));
    assert!(error_message(&error).contains("collation"));
}

#[tokio::test]
async fn a_document_grown_past_16_mb_by_an_update_is_refused() {
    let t = Target::start().await;
    let coll = t.coll("big");
    let nine_mb = "x".repeat(9 * 1024 * 1024);
    coll.insert_one(doc! { "_id": 1, "a": &nine_mb })
        .await
        .expect("insert 9 MB");
    let error = coll
        .update_one(doc! { "_id": 1 }, doc! { "$set": { "b": &nine_mb } })
        .await
        .expect_err("18 MB document");
    assert!(error_code(&error).is_some(), "{error}");
    let stored = coll
        .find_one(doc! { "_id": 1 })
        .await
        .expect("find")
        .expect("still there");
    assert!(!stored.contains_key("b"));
}

#[tokio::test]
async fn transactions_are_refused_by_a_standalone() {
    if std::env::var("PARLOR_TEST_MONGODB_URI").is_ok() {
        return; // A real replica set accepts transaction numbers.
    }
    let t = Target::start().await;
    let error =
        t.db.run_command(doc! { "insert": "c", "documents": [{ "_id": 1 }], "txnNumber": 1_i64 })
            .await
            .expect_err("no transactions");
    assert_eq!(error_code(&error), Some(20));
}
