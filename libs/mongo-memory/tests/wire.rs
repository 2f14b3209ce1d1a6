//! `OP_MSG` features the Rust driver does not exercise, over raw TCP:
//! kind-1 document sequences, `checksumPresent`, and `moreToCome` (no reply).

use mongo_memory::MongoMemory;
use mongodb::bson::{Document, doc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OP_MSG: i32 = 2013;
const CHECKSUM_PRESENT: u32 = 1;
const MORE_TO_COME: u32 = 2;

fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0x82F6_3B78 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

fn encode(document: &Document) -> Vec<u8> {
    mongodb::bson::to_vec(document).expect("encode")
}

/// Builds an `OP_MSG` with `body`, optional kind-1 sequence, flags.
fn op_msg(
    request_id: i32,
    flags: u32,
    body: &Document,
    sequence: Option<(&str, &[Document])>,
) -> Vec<u8> {
    let mut sections = vec![0u8];
    sections.extend(encode(body));
    if let Some((name, documents)) = sequence {
        let mut payload = name.as_bytes().to_vec();
        payload.push(0);
        for document in documents {
            payload.extend(encode(document));
        }
        sections.push(1);
        sections.extend_from_slice(
            &i32::try_from(payload.len() + 4)
                .expect("small")
                .to_le_bytes(),
        );
        sections.extend(payload);
    }
    let checksum_len = if flags & CHECKSUM_PRESENT != 0 { 4 } else { 0 };
    let length = i32::try_from(16 + 4 + sections.len() + checksum_len).expect("small");
    let mut message = Vec::new();
    message.extend_from_slice(&length.to_le_bytes());
    message.extend_from_slice(&request_id.to_le_bytes());
    message.extend_from_slice(&0i32.to_le_bytes());
    message.extend_from_slice(&OP_MSG.to_le_bytes());
    message.extend_from_slice(&flags.to_le_bytes());
    message.extend(sections);
    if checksum_len > 0 {
        let checksum = crc32c(&message);
        message.extend_from_slice(&checksum.to_le_bytes());
    }
    message
}

/// Reads one reply, returning (responseTo, body document).
async fn read_reply(stream: &mut TcpStream) -> (i32, Document) {
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).await.expect("length");
    let length = usize::try_from(i32::from_le_bytes(length)).expect("positive");
    let mut rest = vec![0u8; length - 4];
    stream.read_exact(&mut rest).await.expect("reply");
    let response_to = i32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    let body = Document::from_reader(&rest[17..]).expect("body section");
    (response_to, body)
}

#[tokio::test]
async fn sequences_checksums_and_more_to_come() {
    let server = MongoMemory::start().await.expect("start");
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");

    // Kind-1 sequence merged into the command, with a checksum.
    let documents = [doc! { "_id": 1 }, doc! { "_id": 2 }];
    let insert = doc! { "insert": "c", "$db": "wire" };
    stream
        .write_all(&op_msg(
            10,
            CHECKSUM_PRESENT,
            &insert,
            Some(("documents", &documents)),
        ))
        .await
        .expect("write");
    let (response_to, reply) = read_reply(&mut stream).await;
    assert_eq!(response_to, 10);
    assert_eq!(reply.get_i32("n"), Ok(2), "{reply}");

    // moreToCome: applied without a reply; the next reply answers the next request.
    let unacknowledged = doc! { "insert": "c", "documents": [{ "_id": 3 }], "$db": "wire" };
    stream
        .write_all(&op_msg(11, MORE_TO_COME, &unacknowledged, None))
        .await
        .expect("write");
    let count = doc! { "count": "c", "$db": "wire" };
    stream
        .write_all(&op_msg(12, 0, &count, None))
        .await
        .expect("write");
    let (response_to, reply) = read_reply(&mut stream).await;
    assert_eq!(response_to, 12);
    assert_eq!(reply.get_i32("n"), Ok(3), "{reply}");
}

#[tokio::test]
async fn a_wrong_checksum_closes_the_connection() {
    let server = MongoMemory::start().await.expect("start");
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    let mut message = op_msg(
        1,
        CHECKSUM_PRESENT,
        &doc! { "ping": 1, "$db": "admin" },
        None,
    );
    let last = message.len() - 1;
    message[last] ^= 0xff;
    stream.write_all(&message).await.expect("write");
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buffer))
        .await
        .expect("closed");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "expected close, got {read:?}"
    );
}
