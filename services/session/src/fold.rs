//! What a conversation's events say about it, folded in order: the one
//! reading of the log that a live call (as it records) and recovery (as it
//! replays) share.

use chrono::{DateTime, Utc};
use events::{ConversationEvent, ConversationId, Envelope};

use crate::log::Party;

/// The facts of one conversation so far.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Who it belongs to, from `conversation.requested`'s envelope.
    pub party: Option<Party>,
    /// The session copy that runs (or ran) the live call.
    pub owner: Option<String>,
    /// The stream sequence of its last event (0 before the first).
    pub version: u64,
    /// Events recorded.
    pub events: u32,
    pub elevenlabs_id: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    /// Ended or failed: no live event follows.
    pub terminal: bool,
    pub cost_reported: bool,
    pub analysis_reported: bool,
}

impl Facts {
    /// One event of the conversation, whatever its source.
    pub fn record(&mut self, event: &ConversationEvent) {
        self.events = self.events.saturating_add(1);
        match event {
            ConversationEvent::Requested(r) => self.owner.clone_from(&r.owner),
            ConversationEvent::Started(s) => {
                self.elevenlabs_id = Some(s.elevenlabs_conversation_id.clone());
            }
            ConversationEvent::CostReported(_) => self.cost_reported = true,
            ConversationEvent::AnalysisReported(_) => self.analysis_reported = true,
            e if e.is_terminal() => self.terminal = true,
            _ => {}
        }
    }

    /// One stored event: the event, plus where and when it was stored.
    pub fn apply(
        &mut self,
        id: ConversationId,
        sequence: u64,
        envelope: &Envelope<ConversationEvent>,
    ) {
        self.record(&envelope.event);
        self.version = sequence;
        self.last_at = Some(envelope.meta.occurred_at);
        match &envelope.event {
            ConversationEvent::Requested(_) => {
                if let (Some(user_id), Some(agent_id)) =
                    (envelope.meta.user_id, envelope.meta.agent_id.clone())
                {
                    self.party = Some(Party {
                        conversation_id: id,
                        user_id,
                        agent_id,
                        correlation_id: envelope.meta.correlation_id,
                    });
                }
            }
            ConversationEvent::Started(_) => self.started_at = Some(envelope.meta.occurred_at),
            _ => {}
        }
    }

    /// From the start to the last event: the best duration the log holds
    /// for a call that was never ended.
    pub fn duration_ms(&self) -> u64 {
        match (self.started_at, self.last_at) {
            (Some(start), Some(last)) => {
                u64::try_from((last - start).num_milliseconds()).unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// A call whose ElevenLabs record may still hold a cost to fetch.
    pub fn awaits_cost(&self) -> bool {
        self.elevenlabs_id.is_some() && !self.cost_reported
    }
}
