//! A log message, decoded, and the conversation document it concerns: the
//! one routing shared by live projection and rebuilds.

use events::{ConversationEvent, ConversationId, DecodeError, Envelope, LedgerEvent};
use eventstore::{LogMessage, StreamName};

use crate::apply;
use crate::document::ConversationDoc;

/// An event that bears on one conversation document.
#[derive(Clone, Debug)]
pub enum Routed {
    Conversation {
        id: ConversationId,
        sequence: u64,
        envelope: Envelope<ConversationEvent>,
    },
    Ledger {
        id: ConversationId,
        sequence: u64,
        envelope: Envelope<LedgerEvent>,
    },
}

/// Why a message cannot be projected: it is parked with this.
#[derive(Debug, thiserror::Error)]
pub enum Unroutable {
    #[error("undecodable: {0}")]
    Undecodable(#[from] eventstore::Error),
    #[error("aggregate id `{0}` is not a conversation id")]
    NotAConversation(String),
}

impl Routed {
    /// The event in `message` of `stream`; `None` when it bears on no
    /// conversation document. A ledger event of a type this build does not
    /// know is such an event (it moves credits, not a conversation's
    /// figures); a conversation event it cannot decode is an error.
    pub fn decode(stream: StreamName, message: &LogMessage) -> Result<Option<Self>, Unroutable> {
        let sequence = message.sequence;
        match stream {
            StreamName::Conversations => {
                let envelope = message.decode::<ConversationEvent>()?;
                let id = apply::conversation_target(&envelope).ok_or_else(|| {
                    Unroutable::NotAConversation(envelope.meta.aggregate_id.clone())
                })?;
                Ok(Some(Self::Conversation {
                    id,
                    sequence,
                    envelope,
                }))
            }
            StreamName::Ledger => {
                let envelope = match message.decode::<LedgerEvent>() {
                    Ok(envelope) => envelope,
                    Err(eventstore::Error::Decode(
                        DecodeError::UnknownType { .. } | DecodeError::NewerSchema { .. },
                    )) => return Ok(None),
                    Err(error) => return Err(error.into()),
                };
                Ok(
                    apply::conversation_of(&envelope.event).map(|id| Self::Ledger {
                        id,
                        sequence,
                        envelope,
                    }),
                )
            }
        }
    }

    pub fn id(&self) -> ConversationId {
        match self {
            Self::Conversation { id, .. } | Self::Ledger { id, .. } => *id,
        }
    }

    /// The document to start from when the conversation has none yet.
    pub fn new_document(&self) -> ConversationDoc {
        match self {
            Self::Conversation { id, envelope, .. } => {
                apply::new_document(*id, envelope.meta.user_id, envelope.meta.occurred_at)
            }
            Self::Ledger { id, envelope, .. } => {
                apply::new_document(*id, apply::user_of(envelope), envelope.meta.occurred_at)
            }
        }
    }

    /// Applies the event to `doc`; false when it changes nothing.
    pub fn apply(&self, doc: &mut ConversationDoc) -> bool {
        match self {
            Self::Conversation {
                sequence, envelope, ..
            } => apply::conversation_event(doc, *sequence, envelope),
            Self::Ledger {
                sequence, envelope, ..
            } => apply::ledger_event(doc, *sequence, envelope),
        }
    }
}
