//! Finding the calls a stopped copy left: conversations it owned that never
//! ended are closed in the log as failed (`session_lost`), and calls whose
//! ElevenLabs cost was never recorded get it fetched again. A copy runs it
//! for itself at start, and `sweep` for copies that stopped.

use std::collections::HashMap;

use events::command::subject;
use events::conversation::{Failed, FailureReason};
use events::{ConversationEvent, ConversationId};
use eventstore::{EventStore, ReplayFrom, StreamName};
use futures::TryStreamExt;

use bus::{Close, LiveSender};

use crate::fold::Facts;
use crate::log::ConversationLog;

/// A conversation this copy must finish.
pub struct Orphan {
    pub log: ConversationLog,
    /// Never ended or failed in the log: close it as lost.
    pub unterminated: bool,
    pub duration_ms: u64,
    /// ElevenLabs' id, when the call got that far: its cost can still be read.
    pub elevenlabs_id: Option<String>,
}

/// The calls left to finish by the owners `left` picks, with their owner.
/// Reads the whole conversation stream once. (A stream too long for that
/// would keep a per-owner index; today's volumes replay in well under a
/// second.)
pub async fn orphans(
    store: &EventStore,
    left: impl Fn(&str) -> bool,
) -> Result<Vec<(String, Orphan)>, eventstore::Error> {
    let mut seen: HashMap<ConversationId, Facts> = HashMap::new();
    let mut messages = store
        .replay(StreamName::Conversations, ReplayFrom::Beginning)
        .await?;
    while let Some(message) = messages.try_next().await? {
        let envelope = match message.decode::<ConversationEvent>() {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(sequence = message.sequence, error = %e, "skipping an event this build cannot read");
                continue;
            }
        };
        let Ok(id) = envelope.meta.aggregate_id.parse::<ConversationId>() else {
            continue;
        };
        seen.entry(id)
            .or_default()
            .apply(id, message.sequence, &envelope);
    }
    Ok(seen
        .into_values()
        .filter(|f| !f.terminal || f.awaits_cost())
        .filter_map(|facts| {
            let owner = facts.owner.clone().filter(|o| left(o))?;
            let party = facts.party.clone()?;
            let orphan = Orphan {
                log: ConversationLog::new(store.clone(), party, facts.version),
                unterminated: !facts.terminal,
                duration_ms: facts.duration_ms(),
                elevenlabs_id: facts.elevenlabs_id,
            };
            Some((owner, orphan))
        })
        .collect())
}

impl Orphan {
    /// Closes the conversation as lost, if it never ended, and tells a
    /// gateway still holding its client (1011).
    pub async fn close_if_unterminated(
        &mut self,
        client: &async_nats::Client,
    ) -> Result<(), eventstore::Error> {
        if !self.unterminated {
            return Ok(());
        }
        let conversation_id = self.log.party().conversation_id;
        LiveSender::new(client.clone(), subject::live_out(conversation_id))
            .close(&Close::new(bus::close::INTERNAL, "session lost"))
            .await;
        tracing::warn!(conversation_id = %self.log.party().conversation_id, "closing a conversation lost by a previous run");
        self.log
            .append(ConversationEvent::Failed(Failed {
                reason: FailureReason::SessionLost,
                message: "the session copy running the call stopped".to_owned(),
                duration_ms: self.duration_ms,
            }))
            .await
    }
}
