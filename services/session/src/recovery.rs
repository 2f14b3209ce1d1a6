//! At start: conversations this copy owned when it died are closed in the
//! log as failed (`session_lost`), and calls whose ElevenLabs cost was never
//! recorded get it fetched again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use events::command::subject;
use events::conversation::{Failed, FailureReason};
use events::{ConversationEvent, ConversationId};
use eventstore::{EventStore, ReplayFrom, StreamName};
use futures::TryStreamExt;

use crate::live::Outgoing;
use crate::log::{ConversationLog, Party};

/// A conversation this copy must finish.
pub struct Orphan {
    pub log: ConversationLog,
    /// Never ended or failed in the log: close it as lost.
    pub unterminated: bool,
    pub duration_ms: u64,
    /// ElevenLabs' id, when the call got that far: its cost can still be read.
    pub elevenlabs_id: Option<String>,
}

#[derive(Default)]
struct Seen {
    party: Option<Party>,
    owned: bool,
    version: u64,
    elevenlabs_id: Option<String>,
    started_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
    terminal: bool,
    cost_reported: bool,
}

/// Reads the whole conversation stream once. (A stream too long for that
/// would keep a per-owner index; today's volumes replay in well under a
/// second.)
pub async fn orphans(store: &EventStore, instance: &str) -> Result<Vec<Orphan>, eventstore::Error> {
    let mut seen: HashMap<ConversationId, Seen> = HashMap::new();
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
        let entry = seen.entry(id).or_default();
        entry.version = message.sequence;
        entry.last_at = Some(envelope.meta.occurred_at);
        match &envelope.event {
            ConversationEvent::Requested(r) => {
                entry.owned = r.owner.as_deref() == Some(instance);
                if let (Some(user_id), Some(agent_id)) =
                    (envelope.meta.user_id, envelope.meta.agent_id.clone())
                {
                    entry.party = Some(Party {
                        conversation_id: id,
                        user_id,
                        agent_id,
                        correlation_id: envelope.meta.correlation_id,
                    });
                }
            }
            ConversationEvent::Started(s) => {
                entry.elevenlabs_id = Some(s.elevenlabs_conversation_id.clone());
                entry.started_at = Some(envelope.meta.occurred_at);
            }
            ConversationEvent::Ended(_) | ConversationEvent::Failed(_) => entry.terminal = true,
            ConversationEvent::CostReported(_) => entry.cost_reported = true,
            _ => {}
        }
    }
    Ok(seen
        .into_values()
        .filter(|s| s.owned && (!s.terminal || (s.elevenlabs_id.is_some() && !s.cost_reported)))
        .filter_map(|s| {
            let party = s.party?;
            let duration_ms = match (s.started_at, s.last_at) {
                (Some(start), Some(last)) => {
                    u64::try_from((last - start).num_milliseconds()).unwrap_or(0)
                }
                _ => 0,
            };
            Some(Orphan {
                log: ConversationLog::new(store.clone(), party, s.version),
                unterminated: !s.terminal,
                duration_ms,
                elevenlabs_id: s.elevenlabs_id,
            })
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
        Outgoing::new(client.clone(), subject::live_out(conversation_id))
            .close(1011, "session lost")
            .await;
        tracing::warn!(conversation_id = %self.log.party().conversation_id, "closing a conversation lost by a previous run");
        self.log
            .append(ConversationEvent::Failed(Failed {
                reason: FailureReason::SessionLost,
                message: "the session service restarted during the call".to_owned(),
                duration_ms: self.duration_ms,
            }))
            .await
    }
}
