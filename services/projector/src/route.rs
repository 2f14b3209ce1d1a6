//! A log message, decoded, and the conversation document it concerns: the
//! one routing shared by the live subscriptions and the rebuild.

use events::{ConversationEvent, ConversationId, Envelope, LedgerEvent};
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

impl Routed {
    /// The event in `message` of `stream`, if it bears on a conversation.
    ///
    /// A message this build cannot decode is skipped with a warning rather
    /// than retried forever: read models are disposable and a rebuild by a
    /// newer projector picks it up.
    pub fn decode(stream: StreamName, message: &LogMessage) -> Option<Self> {
        let sequence = message.sequence;
        match stream {
            StreamName::Conversations => {
                let envelope = message
                    .decode::<ConversationEvent>()
                    .map_err(|error| skip(message, &error))
                    .ok()?;
                let Some(id) = apply::conversation_target(&envelope) else {
                    skip(message, &"aggregate id is not a conversation id");
                    return None;
                };
                Some(Self::Conversation {
                    id,
                    sequence,
                    envelope,
                })
            }
            StreamName::Ledger => {
                let envelope = message
                    .decode::<LedgerEvent>()
                    .map_err(|error| skip(message, &error))
                    .ok()?;
                let id = apply::conversation_of(&envelope.event)?;
                Some(Self::Ledger {
                    id,
                    sequence,
                    envelope,
                })
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

fn skip(message: &LogMessage, why: &dyn std::fmt::Display) {
    tracing::warn!(
        subject = %message.subject,
        sequence = message.sequence,
        %why,
        "event skipped by the projector"
    );
}
