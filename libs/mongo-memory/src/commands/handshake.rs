//! `hello`/`isMaster`, `ping`, `buildInfo`, `endSessions`: what drivers send
//! to connect, monitor and disconnect.

use bson::{DateTime, Document, doc};

use super::Request;
use crate::error::CommandError;
use crate::wire::{MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES};

/// MongoDB 7.0's wire version: new enough for every driver, old enough that
/// drivers do not switch to the 8.0 `bulkWrite` command.
const MAX_WIRE_VERSION: i32 = 21;
pub const MAX_WRITE_BATCH_SIZE: i32 = 100_000;
const SERVER_VERSION: &str = "7.0.0";

/// Answers as a standalone, writable server (no `setName`, no `topologyVersion`).
pub fn hello(request: &Request<'_>, name: &str) -> Result<Document, CommandError> {
    let mut reply = Document::new();
    if name == "hello" {
        reply.insert("isWritablePrimary", true);
    } else {
        reply.insert("ismaster", true);
    }
    if request.command.contains_key("helloOk") {
        reply.insert("helloOk", true);
    }
    let max_bson = i32::try_from(MAX_BSON_OBJECT_SIZE).unwrap_or(i32::MAX);
    let max_message = i32::try_from(MAX_MESSAGE_SIZE_BYTES).unwrap_or(i32::MAX);
    reply.extend(doc! {
        "maxBsonObjectSize": max_bson,
        "maxMessageSizeBytes": max_message,
        "maxWriteBatchSize": MAX_WRITE_BATCH_SIZE,
        "localTime": DateTime::now(),
        "logicalSessionTimeoutMinutes": 30,
        "connectionId": request.connection_id,
        "minWireVersion": 0,
        "maxWireVersion": MAX_WIRE_VERSION,
        "readOnly": false,
        "ok": 1.0,
    });
    Ok(reply)
}

pub fn ping(_request: &Request<'_>) -> Result<Document, CommandError> {
    Ok(doc! { "ok": 1.0 })
}

pub fn build_info(_request: &Request<'_>) -> Result<Document, CommandError> {
    let max_bson = i32::try_from(MAX_BSON_OBJECT_SIZE).unwrap_or(i32::MAX);
    Ok(doc! {
        "version": SERVER_VERSION,
        "gitVersion": "mongo-memory",
        "versionArray": [7, 0, 0, 0],
        "bits": 64,
        "debug": false,
        "maxBsonObjectSize": max_bson,
        "storageEngines": ["mongo-memory"],
        "modules": [],
        "javascriptEngine": "none",
        "ok": 1.0,
    })
}

/// Sessions hold no server state here, so ending them is a no-op.
pub fn end_sessions(_request: &Request<'_>) -> Result<Document, CommandError> {
    Ok(doc! { "ok": 1.0 })
}
