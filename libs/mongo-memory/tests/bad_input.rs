//! Malformed input over raw TCP closes only the connection that sent it; the
//! server keeps serving a driver client already connected and new ones.

use std::time::Duration;

use mongo_memory::MongoMemory;
use mongodb::Client;
use mongodb::bson::doc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the server gets to close a bad connection before the test gives up.
const CLOSE_DEADLINE: Duration = Duration::from_secs(10);

fn header(length: i32, op_code: i32) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes.extend_from_slice(&7i32.to_le_bytes());
    bytes.extend_from_slice(&0i32.to_le_bytes());
    bytes.extend_from_slice(&op_code.to_le_bytes());
    bytes
}

/// An `OP_MSG` whose body section claims more bytes than it has.
fn op_msg_with_broken_bson() -> Vec<u8> {
    let mut body = 0u32.to_le_bytes().to_vec();
    body.push(0);
    body.extend_from_slice(&200i32.to_le_bytes());
    body.extend_from_slice(b"\x10ping\x00");
    let mut frame = header(i32::try_from(16 + body.len()).expect("small"), 2013);
    frame.extend_from_slice(&body);
    frame
}

/// Sends `bytes` (then closes our write half when `finish`), and waits for the server to hang up.
async fn assert_closed(server: &MongoMemory, bytes: &[u8], finish: bool) {
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    if finish {
        stream.shutdown().await.expect("shutdown write half");
    }
    let mut buffer = vec![0u8; 1024];
    let read = tokio::time::timeout(CLOSE_DEADLINE, stream.read(&mut buffer))
        .await
        .expect("server closes the connection");
    match read {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("expected the connection closed, got {n} bytes"),
    }
}

#[tokio::test]
async fn bad_frames_close_their_connection_and_the_server_keeps_serving() {
    let server = MongoMemory::start().await.expect("start");
    let client = Client::with_uri_str(server.uri()).await.expect("client");
    let db = client.database("bad_input");
    db.collection("c")
        .insert_one(doc! { "_id": 1 })
        .await
        .expect("insert before");

    assert_closed(&server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false).await;
    assert_closed(
        &server,
        &[
            0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        ],
        false,
    )
    .await;
    let mut truncated = header(100, 2013);
    truncated.extend_from_slice(&[0; 10]);
    assert_closed(&server, &truncated, true).await;
    assert_closed(&server, &header(i32::MAX, 2013), false).await;
    assert_closed(&server, &header(-5, 2013), false).await;
    assert_closed(&server, &header(5, 2013), false).await;
    let mut unknown = header(20, 9999);
    unknown.extend_from_slice(&[0; 4]);
    assert_closed(&server, &unknown, false).await;
    assert_closed(&server, &op_msg_with_broken_bson(), false).await;

    // The client connected before still works, and so does a new one.
    let found = db
        .collection::<mongodb::bson::Document>("c")
        .find_one(doc! { "_id": 1 })
        .await
        .expect("find after");
    assert_eq!(found, Some(doc! { "_id": 1 }));
    let fresh = Client::with_uri_str(server.uri())
        .await
        .expect("fresh client");
    fresh
        .database("bad_input")
        .run_command(doc! { "ping": 1 })
        .await
        .expect("ping");
}

#[tokio::test]
async fn legacy_op_query_hello_is_answered_with_op_reply() {
    let server = MongoMemory::start().await.expect("start");
    let mut query = Vec::new();
    query.extend_from_slice(&0i32.to_le_bytes());
    query.extend_from_slice(b"admin.$cmd\0");
    query.extend_from_slice(&0i32.to_le_bytes());
    query.extend_from_slice(&(-1i32).to_le_bytes());
    mongodb::bson::to_vec(&doc! { "isMaster": 1, "helloOk": true })
        .map(|bytes| query.extend_from_slice(&bytes))
        .expect("encode");
    let mut frame = header(i32::try_from(16 + query.len()).expect("small"), 2004);
    frame.extend_from_slice(&query);
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(&frame).await.expect("write");
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).await.expect("reply length");
    let mut rest = vec![0u8; usize::try_from(i32::from_le_bytes(length)).expect("positive") - 4];
    stream.read_exact(&mut rest).await.expect("reply");
    assert_eq!(
        i32::from_le_bytes(rest[4..8].try_into().expect("4 bytes")),
        7,
        "responseTo"
    );
    assert_eq!(
        i32::from_le_bytes(rest[8..12].try_into().expect("4 bytes")),
        1,
        "OP_REPLY"
    );
    let reply = mongodb::bson::Document::from_reader(&rest[32..]).expect("reply document");
    assert_eq!(reply.get_bool("ismaster"), Ok(true));
    assert_eq!(reply.get_bool("helloOk"), Ok(true));
}
