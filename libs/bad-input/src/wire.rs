//! mongo-memory's wire decoder: the bytes are what one connection sends.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bson::Document;
use mongo_memory::wire::{OP_MSG, OP_QUERY, OpMsg, OpQuery, encode_op_msg_reply, read_frame};

/// Frame after frame, as the server reads a connection up to the first
/// error, nothing panics the framing or the `OP_MSG`/`OP_QUERY` parsers;
/// each command that parses, sent back as a reply, reads back to the same
/// BSON bytes.
pub fn mongo_wire(mut data: &[u8]) {
    loop {
        let Ok(Some(frame)) = ready(read_frame(&mut data)) else {
            return;
        };
        let parsed = match frame.op_code {
            OP_MSG => OpMsg::parse(&frame.body, &frame.header).map(|m| m.command),
            OP_QUERY => OpQuery::parse(&frame.body).map(|q| q.command),
            _ => return,
        };
        let Ok(command) = parsed else {
            return;
        };
        reads_back(frame.request_id, &command);
    }
}

fn reads_back(request_id: i32, command: &Document) {
    let reply = encode_op_msg_reply(request_id, 0, command);
    let frame = ready(read_frame(&mut reply.as_slice()))
        .expect("a reply frames")
        .expect("a reply is one frame");
    let again = OpMsg::parse(&frame.body, &frame.header)
        .expect("a reply parses")
        .command;
    // Bytes, not `Document` equality: a NaN double never equals itself.
    assert_eq!(bson_bytes(&again), bson_bytes(command), "{command}");
}

fn bson_bytes(document: &Document) -> Vec<u8> {
    let mut bytes = Vec::new();
    document
        .to_writer(&mut bytes)
        .expect("a parsed document serialises");
    bytes
}

/// Runs a read of an in-memory slice, which is ready at its first poll.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("reading a byte slice never waits"),
    }
}
