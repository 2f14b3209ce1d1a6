//! The MongoDB wire protocol: framing, `OP_MSG`, and the legacy `OP_QUERY` /
//! `OP_REPLY` pair that older clients use for their first handshake.

#[cfg(test)]
mod bad_input;
mod crc32c;
mod frame;
mod op_msg;
mod op_query;
mod size;

pub use frame::read_frame;
pub use op_msg::{OpMsg, encode_op_msg_reply};
pub use op_query::{OpQuery, encode_op_reply};
pub use size::encoded_size;

/// The largest message the server accepts (and advertises in `hello`).
pub const MAX_MESSAGE_SIZE_BYTES: usize = 48_000_000;

/// The largest BSON document a client may store (and advertised in `hello`).
pub const MAX_BSON_OBJECT_SIZE: usize = 16 * 1024 * 1024;

/// Op codes the server understands; anything else closes the connection.
pub const OP_REPLY: i32 = 1;
pub const OP_QUERY: i32 = 2004;
pub const OP_MSG: i32 = 2013;

/// Why a message could not be read; the connection that sent it is closed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("connection i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("message length {0} is outside 16..={MAX_MESSAGE_SIZE_BYTES}")]
    BadLength(i64),
    #[error("unsupported op code {0}")]
    UnknownOpCode(i32),
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// Reads a BSON document at the start of `bytes`, returning it and its length.
fn read_document(bytes: &[u8]) -> Result<(bson::Document, usize), WireError> {
    let len = read_i32(bytes, 0)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|len| (5..=bytes.len()).contains(len))
        .ok_or_else(|| WireError::Malformed(format!("document length {len} does not fit")))?;
    let document = bson::RawDocument::from_bytes(&bytes[..len])
        .and_then(bson::Document::try_from)
        .map_err(|e| WireError::Malformed(format!("invalid BSON: {e}")))?;
    Ok((document, len))
}

fn read_i32(bytes: &[u8], at: usize) -> Result<i32, WireError> {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_le_bytes)
        .ok_or_else(|| WireError::Malformed("truncated integer".into()))
}

/// Reads a NUL-terminated UTF-8 string, returning it and the bytes consumed.
fn read_cstring(bytes: &[u8]) -> Result<(&str, usize), WireError> {
    let end = bytes
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| WireError::Malformed("unterminated string".into()))?;
    let text = std::str::from_utf8(&bytes[..end])
        .map_err(|_| WireError::Malformed("string is not UTF-8".into()))?;
    Ok((text, end + 1))
}

fn write_header(out: &mut Vec<u8>, request_id: i32, response_to: i32, op_code: i32) {
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&request_id.to_le_bytes());
    out.extend_from_slice(&response_to.to_le_bytes());
    out.extend_from_slice(&op_code.to_le_bytes());
}

/// Writes the final length into the header reserved by `write_header`.
fn finish_message(out: &mut [u8]) {
    let len = i32::try_from(out.len()).unwrap_or(i32::MAX);
    out[..4].copy_from_slice(&len.to_le_bytes());
}

fn encode_document(out: &mut Vec<u8>, document: &bson::Document) {
    if document.to_writer(&mut *out).is_err() {
        // A reply the server built itself always serialises; keep the frame valid regardless.
        out.extend_from_slice(&5i32.to_le_bytes());
        out.push(0);
    }
}
