//! `OP_MSG`: one kind-0 body section plus kind-1 document sequences, which are
//! merged into the command as arrays under their identifiers.

use bson::{Bson, Document};

use super::crc32c::crc32c;
use super::{
    OP_MSG, WireError, encode_document, finish_message, read_cstring, read_document, read_i32,
    write_header,
};

const CHECKSUM_PRESENT: u32 = 1;
const MORE_TO_COME: u32 = 1 << 1;
const EXHAUST_ALLOWED: u32 = 1 << 16;
/// Bits 0-15 must be understood by the receiver; 16-31 may be ignored.
const REQUIRED_BITS: u32 = 0xFFFF;

/// A parsed `OP_MSG` request.
#[derive(Debug)]
pub struct OpMsg {
    pub command: Document,
    /// The client expects no reply (an unacknowledged write).
    pub more_to_come: bool,
}

impl OpMsg {
    /// Parses the body (everything after the standard header).
    pub fn parse(body: &[u8], header: &[u8; 16]) -> Result<Self, WireError> {
        let flags = read_i32(body, 0)?.cast_unsigned();
        let known = CHECKSUM_PRESENT | MORE_TO_COME | EXHAUST_ALLOWED;
        if flags & REQUIRED_BITS & !known != 0 {
            return Err(WireError::Malformed(format!(
                "unknown required flag bits {flags:#x}"
            )));
        }
        let mut sections_end = body.len();
        if flags & CHECKSUM_PRESENT != 0 {
            sections_end = body
                .len()
                .checked_sub(4)
                .filter(|end| *end >= 4)
                .ok_or_else(|| WireError::Malformed("checksum missing".into()))?;
            let expected = u32::from_le_bytes(body[sections_end..].try_into().unwrap_or_default());
            let mut checked = header.to_vec();
            checked.extend_from_slice(&body[..sections_end]);
            if crc32c(&checked) != expected {
                return Err(WireError::Malformed("checksum mismatch".into()));
            }
        }
        let mut at = 4;
        let mut command = None;
        let mut sequences = Vec::new();
        while at < sections_end {
            let kind = body[at];
            at += 1;
            let rest = &body[at..sections_end];
            match kind {
                0 => {
                    let (document, len) = read_document(rest)?;
                    if command.replace(document).is_some() {
                        return Err(WireError::Malformed("more than one body section".into()));
                    }
                    at += len;
                }
                1 => {
                    let (name, documents, len) = read_sequence(rest)?;
                    sequences.push((name, documents));
                    at += len;
                }
                other => {
                    return Err(WireError::Malformed(format!(
                        "unknown section kind {other}"
                    )));
                }
            }
        }
        let mut command = command.ok_or_else(|| WireError::Malformed("no body section".into()))?;
        for (name, documents) in sequences {
            if command.contains_key(&name) {
                return Err(WireError::Malformed(format!(
                    "field '{name}' is both in the body and a sequence"
                )));
            }
            command.insert(
                name,
                Bson::Array(documents.into_iter().map(Bson::Document).collect()),
            );
        }
        Ok(Self {
            command,
            more_to_come: flags & MORE_TO_COME != 0,
        })
    }
}

fn read_sequence(bytes: &[u8]) -> Result<(String, Vec<Document>, usize), WireError> {
    let len = usize::try_from(read_i32(bytes, 0)?)
        .ok()
        .filter(|len| (5..=bytes.len()).contains(len))
        .ok_or_else(|| WireError::Malformed("document sequence length does not fit".into()))?;
    let section = &bytes[4..len];
    let (name, mut at) = read_cstring(section)?;
    let mut documents = Vec::new();
    while at < section.len() {
        let (document, doc_len) = read_document(&section[at..])?;
        documents.push(document);
        at += doc_len;
    }
    Ok((name.to_owned(), documents, len))
}

/// Encodes a reply carrying `reply` as its single body section.
pub fn encode_op_msg_reply(request_id: i32, response_to: i32, reply: &Document) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_header(&mut out, request_id, response_to, OP_MSG);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    encode_document(&mut out, reply);
    finish_message(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use bson::{Document, doc};

    use super::OpMsg;

    fn body(flags: u32, sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut bytes = flags.to_le_bytes().to_vec();
        for (kind, payload) in sections {
            bytes.push(*kind);
            bytes.extend_from_slice(payload);
        }
        bytes
    }

    fn encoded(document: &Document) -> Vec<u8> {
        bson::to_vec(document).expect("encode")
    }

    fn sequence(name: &str, documents: &[Document]) -> Vec<u8> {
        let mut payload = name.as_bytes().to_vec();
        payload.push(0);
        documents.iter().for_each(|d| payload.extend(encoded(d)));
        let mut bytes = i32::try_from(payload.len() + 4)
            .expect("small")
            .to_le_bytes()
            .to_vec();
        bytes.extend(payload);
        bytes
    }

    #[test]
    fn sequences_are_merged_into_the_command() {
        let command = encoded(&doc! { "insert": "c", "$db": "d" });
        let docs = sequence("documents", &[doc! { "a": 1 }, doc! { "a": 2 }]);
        let message = OpMsg::parse(&body(0, &[(0, command), (1, docs)]), &[0; 16]).expect("parse");
        assert_eq!(
            message.command,
            doc! { "insert": "c", "$db": "d", "documents": [{ "a": 1 }, { "a": 2 }] }
        );
        assert!(!message.more_to_come);
    }

    #[test]
    fn malformed_messages_are_refused() {
        let command = encoded(&doc! { "ping": 1 });
        let two_bodies = body(0, &[(0, command.clone()), (0, command.clone())]);
        assert!(OpMsg::parse(&two_bodies, &[0; 16]).is_err());
        assert!(
            OpMsg::parse(&body(0, &[]), &[0; 16]).is_err(),
            "no body section"
        );
        assert!(
            OpMsg::parse(&body(1 << 4, &[(0, command.clone())]), &[0; 16]).is_err(),
            "unknown required bit"
        );
        assert!(
            OpMsg::parse(&body(0, &[(7, command.clone())]), &[0; 16]).is_err(),
            "unknown kind"
        );
        let truncated = &body(0, &[(0, command)])[..8];
        assert!(OpMsg::parse(truncated, &[0; 16]).is_err());
        assert!(
            OpMsg::parse(
                &body(1 << 16, &[(0, encoded(&doc! { "ping": 1 }))]),
                &[0; 16]
            )
            .is_ok(),
            "optional bit"
        );
    }
}
