//! Connecting, `ping`, `hello`, `buildInfo`, unknown commands.

use mongodb::bson::{Bson, doc};

use crate::target::Target;

#[tokio::test]
async fn ping_answers_ok() {
    let t = Target::start().await;
    let reply = t.db.run_command(doc! { "ping": 1 }).await.expect("ping");
    assert_eq!(reply.get("ok").and_then(Bson::as_f64), Some(1.0));
}

#[tokio::test]
async fn hello_describes_a_writable_standalone() {
    let t = Target::start().await;
    let reply = t.db.run_command(doc! { "hello": 1 }).await.expect("hello");
    assert_eq!(reply.get_bool("isWritablePrimary"), Ok(true));
    assert!(reply.get_i32("maxWireVersion").expect("maxWireVersion") >= 9);
    assert_eq!(reply.get_i32("maxBsonObjectSize"), Ok(16 * 1024 * 1024));
    assert_eq!(reply.get_i32("maxMessageSizeBytes"), Ok(48_000_000));
    assert_eq!(reply.get_i32("maxWriteBatchSize"), Ok(100_000));
    assert!(reply.get_datetime("localTime").is_ok());
}

#[tokio::test]
async fn unknown_command_is_command_not_found() {
    let t = Target::start().await;
    let error =
        t.db.run_command(doc! { "frobnicate": 1 })
            .await
            .expect_err("unknown");
    let mongodb::error::ErrorKind::Command(command) = *error.kind else {
        panic!("expected a command error, got {error}");
    };
    assert_eq!(command.code, 59);
    assert_eq!(command.code_name, "CommandNotFound");
    assert!(
        command.message.contains("frobnicate"),
        "{}",
        command.message
    );
}

#[tokio::test]
async fn insert_then_find_round_trips() {
    let t = Target::start().await;
    let coll = t.coll("things");
    coll.insert_one(doc! { "_id": 1, "name": "one" })
        .await
        .expect("insert");
    let found = coll.find_one(doc! { "_id": 1 }).await.expect("find");
    assert_eq!(found, Some(doc! { "_id": 1, "name": "one" }));
}
