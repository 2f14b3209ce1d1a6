//! A conversation as a client names it: Parlor's id (a 24-hex ObjectId) or
//! the ElevenLabs id (`conv_…`) it learned over the WebSocket or from
//! ElevenLabs, resolved to Parlor's id.
//!
//! A live call's ElevenLabs id is found where the relay recorded it as the
//! call began (`elevenlabs_ids`), else in the read model
//! (`metadata.elevenlabs_conversation_id`). A conversation Parlor never
//! relayed (the client talked to ElevenLabs directly and submitted the
//! transcript after) has no such document when its first fact arrives, so
//! its Parlor id is derived from the ElevenLabs id: the first 12 bytes of
//! SHA-256 of the id's UTF-8 text. Retries, webhooks and later reads of the
//! same ElevenLabs id so land on the same aggregate.

use std::fmt;

use bson::{Document, doc};
use events::ConversationId;
use sha2::{Digest, Sha256};

use crate::elevenlabs_ids::ElevenLabsIds;
use crate::error::ApiError;
use crate::reads::Reads;

/// The longest ElevenLabs id accepted.
const MAX_ELEVENLABS_ID_LEN: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConversationRef {
    Parlor(ConversationId),
    /// `conv_` followed by letters, digits, `_` or `-`.
    ElevenLabs(String),
}

impl ConversationRef {
    /// Parses what a client sent; `None` when it is neither kind of id.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(id) = text.parse() {
            return Some(Self::Parlor(id));
        }
        let rest = text.strip_prefix("conv_")?;
        let valid = !rest.is_empty()
            && text.len() <= MAX_ELEVENLABS_ID_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| Self::ElevenLabs(text.to_owned()))
    }

    /// Like [`parse`](Self::parse), refused as a 400 naming `field`.
    pub fn parse_field(text: &str, field: &str) -> Result<Self, ApiError> {
        Self::parse(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{field} must be a 24-hex conversation id or an ElevenLabs id (conv_…)"
            ))
        })
    }

    /// The read model's filter for this conversation's document.
    pub fn filter(&self) -> Document {
        match self {
            Self::Parlor(id) => doc! { "_id": bson::oid::ObjectId::from_bytes(id.bytes()) },
            Self::ElevenLabs(id) => doc! { "metadata.elevenlabs_conversation_id": id.as_str() },
        }
    }

    pub fn elevenlabs_id(&self) -> Option<&str> {
        match self {
            Self::ElevenLabs(id) => Some(id),
            Self::Parlor(_) => None,
        }
    }

    /// Parlor's id: itself, the live call the relay recorded under this
    /// ElevenLabs id, or the read model knows under it, else the id derived
    /// from it.
    pub async fn resolve(
        &self,
        ids: &ElevenLabsIds,
        reads: &Reads,
    ) -> Result<ConversationId, ApiError> {
        match self {
            Self::Parlor(id) => Ok(*id),
            Self::ElevenLabs(elevenlabs_id) => {
                if let Some(id) = ids.lookup(elevenlabs_id).await {
                    return Ok(id);
                }
                Ok(known(reads, elevenlabs_id)
                    .await?
                    .unwrap_or_else(|| derived(elevenlabs_id)))
            }
        }
    }
}

impl fmt::Display for ConversationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parlor(id) => id.fmt(f),
            Self::ElevenLabs(id) => f.write_str(id),
        }
    }
}

/// The Parlor id of a conversation only ElevenLabs named (see the module doc).
pub fn derived(elevenlabs_id: &str) -> ConversationId {
    let digest = Sha256::digest(elevenlabs_id.as_bytes());
    let mut bytes = [0u8; 12];
    bytes.copy_from_slice(&digest[..12]);
    ConversationId::from_bytes(bytes)
}

/// The conversation the read model records under `elevenlabs_id`.
async fn known(reads: &Reads, elevenlabs_id: &str) -> Result<Option<ConversationId>, ApiError> {
    let found = reads
        .conversations()
        .find_one(doc! { "metadata.elevenlabs_conversation_id": elevenlabs_id })
        .projection(doc! { "_id": 1 })
        .await
        .map_err(|_| ApiError::Unavailable("the read models"))?;
    Ok(found.as_ref().and_then(object_id))
}

fn object_id(document: &Document) -> Option<ConversationId> {
    document
        .get_object_id("_id")
        .ok()
        .map(|id| ConversationId::from_bytes(id.bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_of_id_parse_and_nothing_else() {
        let id = ConversationId::new();
        assert_eq!(
            ConversationRef::parse(&id.to_string()),
            Some(ConversationRef::Parlor(id))
        );
        assert_eq!(
            ConversationRef::parse("conv_01abc-X_y"),
            Some(ConversationRef::ElevenLabs("conv_01abc-X_y".into()))
        );
        for bad in [
            "",
            "conv_",
            "conv_a.b",
            "conv_a b",
            "abc",
            "conv_>",
            &"x".repeat(24),
        ] {
            assert_eq!(ConversationRef::parse(bad), None, "{bad}");
        }
        assert_eq!(
            ConversationRef::parse(&format!("conv_{}", "a".repeat(200))),
            None
        );
    }

    #[test]
    fn the_derived_id_is_stable_and_differs_per_elevenlabs_id() {
        // SHA-256("conv_123") starts with these 12 bytes.
        assert_eq!(derived("conv_123"), derived("conv_123"));
        assert_ne!(derived("conv_123"), derived("conv_124"));
        let digest = Sha256::digest(b"conv_123");
        assert_eq!(derived("conv_123").to_string(), hex::encode(&digest[..12]));
    }
}
