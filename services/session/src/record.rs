//! `cmd.session.record`: what is known of a conversation from outside a
//! live call — a client-side transcript, ElevenLabs' post-call record, a
//! failed initiation — appended only where the log lacks it.
//!
//! Every such write goes through [`settle`]: load the conversation, fold
//! it, decide what is missing, append expecting the version read. A writer
//! that lost a race gets a conflict, loads again and decides again, so the
//! same record sent twice (ElevenLabs' retries, a client's retried POST)
//! or arriving two ways (the webhook and the session's own fetch) lands
//! once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use elevenlabs::rest::ConversationDetails;
use events::command::{
    Record, RecordConversation, RecordOutcome, Recorded, Refusal, RefusalCode, Reply,
};
use events::conversation::{ConversationMode, Failed, FailureReason, Requested};
use events::{ConversationEvent, ConversationId, DomainEvent};
use eventstore::EventStore;

use crate::fold::Facts;
use crate::log::{ConversationLog, Party};
use crate::postcall;
use crate::service::Shared;

/// Loads after a conflict at most this often before giving up (each
/// conflict means another writer made progress on the same conversation).
const CONFLICT_ATTEMPTS: u32 = 5;

/// What to append, and as whom.
pub struct Plan {
    pub party: Party,
    /// Each event with the time it occurred (`None`: now).
    pub events: Vec<(ConversationEvent, Option<DateTime<Utc>>)>,
}

impl Plan {
    /// `events`, all occurring now.
    pub fn now(party: Party, events: Vec<ConversationEvent>) -> Self {
        Self {
            party,
            events: events.into_iter().map(|e| (e, None)).collect(),
        }
    }
}

/// The conversation after [`settle`]: its facts as last read, and what was
/// appended now.
pub struct Settled {
    pub facts: Facts,
    pub appended: Vec<&'static str>,
}

/// Loads `id`, asks `decide` what the log lacks, appends it expecting the
/// version read; on a conflict does it all again.
pub async fn settle(
    store: &EventStore,
    id: ConversationId,
    mut decide: impl FnMut(&Facts) -> Option<Plan>,
) -> Result<Settled, eventstore::Error> {
    let mut appended = Vec::new();
    let mut attempt = 1;
    loop {
        let loaded = store.load::<ConversationEvent>(id).await?;
        let mut facts = Facts::default();
        for stored in &loaded.events {
            facts.apply(id, stored.sequence, &stored.envelope);
        }
        let plan = decide(&facts).filter(|plan| !plan.events.is_empty());
        let Some(plan) = plan else {
            return Ok(Settled { facts, appended });
        };
        let mut log = ConversationLog::new(store.clone(), plan.party, facts.version);
        let mut conflicted = None;
        for (event, at) in plan.events {
            let kind = event.event_type();
            let result = match at {
                Some(at) => log.append_at(event, at).await,
                None => log.append(event).await,
            };
            match result {
                Ok(()) => appended.push(kind),
                Err(e @ eventstore::Error::Conflict { .. }) => {
                    conflicted = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        match conflicted {
            None => {
                // Read back what was decided on, with the new version.
                let mut facts = facts;
                facts.version = log.version();
                facts.party.get_or_insert_with(|| log.party().clone());
                return Ok(Settled { facts, appended });
            }
            Some(conflict) if attempt >= CONFLICT_ATTEMPTS => return Err(conflict),
            Some(conflict) => {
                tracing::info!(conversation_id = %id, %conflict, "another writer was first; deciding again");
                attempt += 1;
            }
        }
    }
}

/// Answers one `cmd.session.record`.
pub async fn answer(shared: Arc<Shared>, request: async_nats::Message) {
    let reply: Reply<Recorded> = record(&shared, &request.payload).await.into();
    bus::answer(shared.store.client(), &request, &reply).await;
}

async fn record(shared: &Arc<Shared>, payload: &[u8]) -> Result<Recorded, Refusal> {
    let command: RecordConversation = serde_json::from_slice(payload).map_err(|e| {
        Refusal::new(
            RefusalCode::InvalidRequest,
            format!("not a RecordConversation: {e}"),
        )
    })?;
    let id = command.conversation_id;
    let unavailable = |e: eventstore::Error| Refusal::new(RefusalCode::Unavailable, e.to_string());
    let settled = match &command.record {
        Record::Transcript {
            user_id,
            agent_id,
            started_at,
            transcript,
        } => {
            let party = Party {
                conversation_id: id,
                user_id: *user_id,
                agent_id: agent_id.clone(),
                correlation_id: command.correlation_id,
            };
            let settled = settle(&shared.store, id, |facts| {
                (facts.events == 0).then(|| Plan {
                    party: party.clone(),
                    events: vec![
                        (
                            ConversationEvent::Requested(Requested {
                                mode: ConversationMode::ClientSide,
                                owner: None,
                            }),
                            Some(*started_at),
                        ),
                        (
                            ConversationEvent::TranscriptSubmitted(transcript.clone()),
                            None,
                        ),
                    ],
                })
            })
            .await
            .map_err(unavailable)?;
            if !settled.appended.is_empty()
                && let Some(elevenlabs_id) = transcript.elevenlabs_conversation_id.clone()
            {
                confirm(shared, party, elevenlabs_id);
            }
            settled
        }
        Record::ElevenLabsRecord { details } => {
            let details: ConversationDetails =
                serde_json::from_value(details.clone()).map_err(|e| {
                    Refusal::new(
                        RefusalCode::InvalidRequest,
                        format!("not an ElevenLabs conversation record: {e}"),
                    )
                })?;
            let reports = postcall::reports(&details);
            settle(&shared.store, id, |facts| {
                let party = facts.party.clone()?;
                Some(Plan::now(party, postcall::missing(facts, &reports)))
            })
            .await
            .map_err(unavailable)?
        }
        Record::InitiationFailed { reason } => settle(&shared.store, id, |facts| {
            let party = facts.party.clone().filter(|_| !facts.terminal)?;
            let failed = ConversationEvent::Failed(Failed {
                reason: FailureReason::Refused,
                message: format!("ElevenLabs could not start the call: {reason}"),
                duration_ms: 0,
            });
            Some(Plan::now(party, vec![failed]))
        })
        .await
        .map_err(unavailable)?,
    };
    let outcome = if !settled.appended.is_empty() {
        RecordOutcome::Recorded
    } else if settled.facts.events == 0 {
        RecordOutcome::UnknownConversation
    } else {
        RecordOutcome::AlreadyRecorded
    };
    tracing::info!(
        conversation_id = %id,
        correlation_id = %command.correlation_id,
        ?outcome,
        appended = ?settled.appended,
        "record settled"
    );
    Ok(Recorded {
        conversation_id: id,
        user_id: settled.facts.party.map(|p| p.user_id),
        outcome,
        appended: settled.appended.into_iter().map(str::to_owned).collect(),
    })
}

/// A client-side call names its ElevenLabs id: fetch ElevenLabs' record of
/// it in the background, as for a live call, so its cost lands even when
/// no webhook is configured.
fn confirm(shared: &Arc<Shared>, party: Party, elevenlabs_id: String) {
    let task = Arc::clone(shared);
    shared.tasks.spawn(async move {
        let config = &task.config;
        postcall::report(
            &task.rest,
            &task.store,
            &party,
            &elevenlabs_id,
            config.cost_timeout,
            config.cost_poll,
            &task.cancel,
        )
        .await;
    });
}
