//! The audit trail of one conversation: every ledger event about it, with
//! its stream sequence, its postings, and the event that caused it (id,
//! stream sequence and type), so finance can walk from any credit back to
//! the wire events behind it. Pure over a [`History`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use events::ledger::LedgerEvent;
use events::{ConversationId, CorrelationId, Credits, DomainEvent, EventId, Posting};
use serde::Serialize;

use crate::history::History;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrailRow {
    /// Sequence on the LEDGER stream.
    pub sequence: u64,
    pub occurred_at: DateTime<Utc>,
    pub event_id: EventId,
    pub event_type: &'static str,
    /// The account subject it was appended to.
    pub account: String,
    pub credits: Credits,
    pub postings: Vec<Posting>,
    pub causation_id: Option<EventId>,
    /// Where the cause is in the log: `CONVERSATIONS` or `LEDGER`, and its
    /// sequence. A hold asked for by the session names no causing event;
    /// its cause is then the conversation event of the same request
    /// (correlation id), `conversation.requested`.
    pub cause: Option<CauseRef>,
    /// Flags, release reasons and the like, in words.
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CauseRef {
    pub stream: &'static str,
    pub sequence: u64,
    pub event_type: &'static str,
}

/// The ledger events about `conversation`, in log order.
pub fn trail(history: &History, conversation: ConversationId) -> Vec<TrailRow> {
    let mut causes: HashMap<EventId, CauseRef> = HashMap::new();
    let mut requests: HashMap<CorrelationId, CauseRef> = HashMap::new();
    let subject = conversation.to_string();
    for logged in &history.conversations {
        if logged.envelope.meta.aggregate_id == subject {
            requests
                .entry(logged.envelope.meta.correlation_id)
                .or_insert_with(|| CauseRef {
                    stream: "CONVERSATIONS",
                    sequence: logged.sequence,
                    event_type: logged.envelope.event.event_type(),
                });
        }
        causes.insert(
            logged.envelope.meta.id,
            CauseRef {
                stream: "CONVERSATIONS",
                sequence: logged.sequence,
                event_type: logged.envelope.event.event_type(),
            },
        );
    }
    for logged in &history.ledger {
        causes.insert(
            logged.envelope.meta.id,
            CauseRef {
                stream: "LEDGER",
                sequence: logged.sequence,
                event_type: logged.envelope.event.event_type(),
            },
        );
    }
    history
        .ledger
        .iter()
        .filter_map(|logged| {
            let envelope = &logged.envelope;
            let (credits, note) = about(&envelope.event, conversation)?;
            let causation_id = envelope.meta.causation_id;
            Some(TrailRow {
                sequence: logged.sequence,
                occurred_at: envelope.meta.occurred_at,
                event_id: envelope.meta.id,
                event_type: envelope.event.event_type(),
                account: envelope.meta.aggregate_id.clone(),
                credits,
                postings: envelope.event.postings().to_vec(),
                causation_id,
                cause: match causation_id {
                    Some(id) => causes.get(&id).cloned(),
                    None => requests.get(&envelope.meta.correlation_id).cloned(),
                },
                note,
            })
        })
        .collect()
}

/// The amount and the note of `event` when it concerns `conversation`.
fn about(event: &LedgerEvent, conversation: ConversationId) -> Option<(Credits, String)> {
    let (id, credits, note) = match event {
        LedgerEvent::CreditsHeld(e) => (
            e.conversation_id,
            e.credits,
            format!(
                "period {}{}",
                e.period,
                e.covers_ms
                    .map(|ms| format!(", covers {}s", ms / 1000))
                    .unwrap_or_default()
            ),
        ),
        LedgerEvent::HoldCaptured(e) => (e.conversation_id, e.credits, String::new()),
        LedgerEvent::HoldReleased(e) => (
            e.conversation_id,
            e.credits,
            if e.reason.is_settled() {
                String::new()
            } else {
                "expired".to_owned()
            },
        ),
        LedgerEvent::UsageCharged(e) => (
            e.conversation_id,
            e.credits,
            format!("{}s", e.duration_ms / 1000),
        ),
        LedgerEvent::ChargeAdjusted(e) => {
            let mut note = format!(
                "estimate {} → reported {}",
                e.estimated.get(),
                e.actual.get()
            );
            if let (Some(call), Some(llm)) = (e.detail.call_credits, e.detail.llm_credits) {
                note.push_str(&format!(" (call {}, llm {})", call.get(), llm.get()));
            }
            for flag in &e.detail.flags {
                note.push_str(&format!("; flagged {}", flag_text(flag)));
            }
            (e.conversation_id, e.actual - e.estimated, note)
        }
        LedgerEvent::CallPricedPerMessage(e) => (
            e.conversation_id,
            Credits::ZERO,
            format!("text only: {} credits per message", e.credits_per_message),
        ),
        LedgerEvent::AccountOpened(_)
        | LedgerEvent::CreditsGranted(_)
        | LedgerEvent::CreditsExpired(_)
        | LedgerEvent::CreditsCorrected(_) => return None,
    };
    (id == conversation).then_some((credits, note))
}

fn flag_text(flag: &events::ledger::ChargeFlag) -> String {
    use events::ledger::ChargeFlag;
    match flag {
        ChargeFlag::ExceedsHold { held, excess } => {
            format!("exceeds hold {} by {}", held.get(), excess.get())
        }
        ChargeFlag::AboveRateCard {
            reported_per_minute,
            rate_per_minute,
        } => format!(
            "{}/min against a rate of {rate_per_minute}/min",
            reported_per_minute.get()
        ),
        ChargeFlag::UnknownConversation => "unknown conversation".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use events::conversation::{ConversationEvent, ConversationMode, EndReason, Ended, Requested};
    use events::{AccountId, ConversationId, CorrelationId, Envelope, EnvelopeMeta, UserId};

    use crate::book::{Cause, envelopes};
    use crate::given::{charge, given, grant, hold};
    use crate::history::{History, Logged};

    #[test]
    fn each_row_names_the_log_position_of_its_cause() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let request = CorrelationId::new();
        let conversation_event = |event| {
            Envelope::new(
                EnvelopeMeta::new(conversation.to_string(), request).for_user(user),
                event,
            )
        };
        let requested = conversation_event(ConversationEvent::Requested(Requested {
            mode: ConversationMode::Live,
            owner: None,
        }));
        let ended = conversation_event(ConversationEvent::Ended(Ended {
            reason: EndReason::AgentEnded,
            duration_ms: 30_000,
            close_code: None,
        }));
        let mut ledger = given(&[grant(user, 1_000)]);
        let mut history = History {
            ledger: Vec::new(),
            conversations: vec![
                Logged {
                    sequence: 7,
                    envelope: requested,
                },
                Logged {
                    sequence: 9,
                    envelope: ended.clone(),
                },
            ],
        };
        for (command, causation_id) in [
            (hold(user, conversation), None),
            (charge(user, conversation, 30_000), Some(ended.meta.id)),
        ] {
            let events = ledger.when(&command).expect("booked");
            let cause = Cause {
                correlation_id: request,
                causation_id,
            };
            for envelope in envelopes(AccountId::User(user), &command, cause, events) {
                let sequence = history.ledger.len() as u64 + 1;
                history.ledger.push(Logged { sequence, envelope });
            }
            ledger.book(&command);
        }
        let rows = super::trail(&history, conversation);
        let causes: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.event_type,
                    r.cause
                        .as_ref()
                        .map(|c| (c.stream, c.sequence, c.event_type)),
                )
            })
            .collect();
        assert_eq!(
            causes,
            [
                (
                    "credits.held",
                    Some(("CONVERSATIONS", 7, "conversation.requested"))
                ),
                (
                    "hold.captured",
                    Some(("CONVERSATIONS", 9, "conversation.ended"))
                ),
                (
                    "hold.released",
                    Some(("CONVERSATIONS", 9, "conversation.ended"))
                ),
            ]
        );
        assert!(super::trail(&history, ConversationId::new()).is_empty());
    }
}
