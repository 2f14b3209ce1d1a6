//! Shadow re-pricing: what the conversations in a window would have been
//! estimated at under another rate card, against what they were. Posts
//! nothing; pure over a [`History`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use events::conversation::ConversationEvent;
use events::ledger::LedgerEvent;
use events::{AgentId, ConversationId, Credits, UserId};
use serde::Serialize;

use crate::history::History;
use crate::pricing::estimate;
use crate::rates::RateCard;
use crate::reconcile::Window;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RepriceLine {
    pub conversation_id: ConversationId,
    pub user_id: Option<UserId>,
    pub agent_id: Option<AgentId>,
    pub started_at: Option<DateTime<Utc>>,
    pub duration_ms: u64,
    /// The rate the call was charged at, if it was held.
    pub rate: Option<u32>,
    pub new_rate: u32,
    pub charged: Credits,
    pub repriced: Credits,
    pub difference: Credits,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RepriceSums {
    pub conversations: usize,
    pub charged: Credits,
    pub repriced: Credits,
    pub difference: Credits,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Repricing {
    pub conversations: Vec<RepriceLine>,
    pub users: BTreeMap<String, RepriceSums>,
    pub total: RepriceSums,
}

/// Every charged conversation of `window` estimated again under `card`
/// (at the rate it names for the agent when the call started; `default`
/// where it names none).
pub fn reprice(history: &History, window: Window, card: &RateCard, default: u32) -> Repricing {
    let mut lines: BTreeMap<ConversationId, (RepriceLine, bool)> = BTreeMap::new();
    for logged in &history.conversations {
        let meta = &logged.envelope.meta;
        let Ok(id) = meta.aggregate_id.parse::<ConversationId>() else {
            continue;
        };
        let (line, _) = entry(&mut lines, id, meta.occurred_at);
        line.user_id = line.user_id.or(meta.user_id);
        line.agent_id = line.agent_id.take().or_else(|| meta.agent_id.clone());
        match &logged.envelope.event {
            ConversationEvent::Ended(e) => line.duration_ms = e.duration_ms,
            ConversationEvent::Failed(e) => line.duration_ms = e.duration_ms,
            ConversationEvent::TranscriptSubmitted(e) => line.duration_ms = e.duration_ms,
            _ => {}
        }
    }
    for logged in &history.ledger {
        let meta = &logged.envelope.meta;
        let (id, credits, rate) = match &logged.envelope.event {
            LedgerEvent::CreditsHeld(e) => (e.conversation_id, Credits::ZERO, e.credits_per_minute),
            LedgerEvent::HoldCaptured(e) => (e.conversation_id, e.credits, None),
            LedgerEvent::UsageCharged(e) => (e.conversation_id, e.credits, None),
            _ => continue,
        };
        let (line, charged) = entry(&mut lines, id, meta.occurred_at);
        line.user_id = line.user_id.or(meta.user_id);
        line.rate = line.rate.or(rate);
        line.charged = line.charged + credits;
        *charged |= !matches!(logged.envelope.event, LedgerEvent::CreditsHeld(_));
    }
    let mut repricing = Repricing::default();
    for (line, charged) in lines.into_values() {
        let Some(at) = line.started_at else {
            continue;
        };
        if !charged || !window.contains(at) {
            continue;
        }
        let mut line = line;
        line.new_rate = card.rate(line.agent_id.as_ref(), at, default);
        line.repriced = estimate(line.new_rate, line.duration_ms);
        line.difference = line.repriced - line.charged;
        let user = line.user_id.map(|u| u.to_string()).unwrap_or_default();
        for sums in [
            repricing.users.entry(user).or_default(),
            &mut repricing.total,
        ] {
            sums.conversations += 1;
            sums.charged = sums.charged + line.charged;
            sums.repriced = sums.repriced + line.repriced;
            sums.difference = sums.difference + line.difference;
        }
        repricing.conversations.push(line);
    }
    repricing
}

/// The line of conversation `id` (and whether it was charged), first seen
/// no later than `at`.
fn entry(
    lines: &mut BTreeMap<ConversationId, (RepriceLine, bool)>,
    id: ConversationId,
    at: DateTime<Utc>,
) -> (&mut RepriceLine, &mut bool) {
    let (line, charged) = lines.entry(id).or_insert_with(|| {
        (
            RepriceLine {
                conversation_id: id,
                ..RepriceLine::default()
            },
            false,
        )
    });
    line.started_at = Some(line.started_at.map_or(at, |s| s.min(at)));
    (line, charged)
}
