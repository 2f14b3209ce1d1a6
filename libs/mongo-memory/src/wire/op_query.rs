//! Legacy `OP_QUERY` (only as a command on `<db>.$cmd`) and its `OP_REPLY`.

use bson::Document;

use super::{
    OP_REPLY, WireError, encode_document, finish_message, read_cstring, read_document, write_header,
};

/// A parsed `OP_QUERY` against `<db>.$cmd`.
#[derive(Debug)]
pub struct OpQuery {
    pub database: String,
    /// The command, unwrapped from `$query` when the client wrapped it.
    pub command: Document,
}

impl OpQuery {
    pub fn parse(body: &[u8]) -> Result<Self, WireError> {
        let rest = body
            .get(4..)
            .ok_or_else(|| WireError::Malformed("truncated OP_QUERY".into()))?;
        let (namespace, used) = read_cstring(rest)?;
        // numberToSkip and numberToReturn: meaningless for a command.
        let rest = rest
            .get(used + 8..)
            .ok_or_else(|| WireError::Malformed("truncated OP_QUERY".into()))?;
        let (query, _) = read_document(rest)?;
        let database = namespace
            .strip_suffix(".$cmd")
            .ok_or_else(|| {
                WireError::Malformed(format!("OP_QUERY on '{namespace}' is not a command"))
            })?
            .to_owned();
        let command = match query.get_document("$query") {
            Ok(inner) => inner.clone(),
            Err(_) => query,
        };
        Ok(Self { database, command })
    }
}

/// Encodes an `OP_REPLY` carrying one document.
pub fn encode_op_reply(request_id: i32, response_to: i32, reply: &Document) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_header(&mut out, request_id, response_to, OP_REPLY);
    out.extend_from_slice(&0i32.to_le_bytes()); // responseFlags
    out.extend_from_slice(&0i64.to_le_bytes()); // cursorID
    out.extend_from_slice(&0i32.to_le_bytes()); // startingFrom
    out.extend_from_slice(&1i32.to_le_bytes()); // numberReturned
    encode_document(&mut out, reply);
    finish_message(&mut out);
    out
}
