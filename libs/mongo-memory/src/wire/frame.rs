//! Reads one length-prefixed message off a stream.

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{MAX_MESSAGE_SIZE_BYTES, WireError};

pub const HEADER_LEN: usize = 16;

/// One message: its header fields and the bytes after the header.
#[derive(Debug)]
pub struct Frame {
    /// The raw header, which an `OP_MSG` checksum covers.
    pub header: [u8; HEADER_LEN],
    pub request_id: i32,
    pub op_code: i32,
    pub body: Vec<u8>,
}

/// Reads the next message; `Ok(None)` when the peer closed between messages.
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<Frame>, WireError> {
    let mut len_bytes = [0u8; 4];
    match reader.read_exact(&mut len_bytes).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = i32::from_le_bytes(len_bytes);
    let len = usize::try_from(len)
        .ok()
        .filter(|len| (HEADER_LEN..=MAX_MESSAGE_SIZE_BYTES).contains(len))
        .ok_or(WireError::BadLength(i64::from(len)))?;
    let mut rest = vec![0u8; len - 4];
    reader.read_exact(&mut rest).await?;
    let field =
        |at: usize| i32::from_le_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
    let mut header = [0u8; HEADER_LEN];
    header[..4].copy_from_slice(&len_bytes);
    header[4..].copy_from_slice(&rest[..HEADER_LEN - 4]);
    Ok(Some(Frame {
        header,
        request_id: field(0),
        op_code: field(8),
        body: rest.split_off(HEADER_LEN - 4),
    }))
}
