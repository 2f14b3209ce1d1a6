//! After a call: ElevenLabs' own record becomes `cost_reported` and
//! `analysis_reported`. One mapping for both ways the record arrives: the
//! session's own fetch (polled until `done`) and the post-call webhook the
//! gateway forwards (`cmd.session.record`); either way each report is
//! appended only if the conversation has none yet (see `record::settle`).

use std::time::Duration;

use elevenlabs::RestClient;
use elevenlabs::rest::ConversationDetails;
use events::ConversationEvent;
use events::Credits;
use events::conversation::{AnalysisReported, CostReported};
use eventstore::EventStore;
use tokio_util::sync::CancellationToken;

use crate::fold::Facts;
use crate::log::Party;
use crate::record;

/// How long the record keeps being appended while the log is unavailable.
const LOG_WAIT: Duration = Duration::from_secs(60);
const LOG_RETRY: Duration = Duration::from_millis(500);

/// The reports in `details`, cost first; none for a call it has no cost
/// or analysis for yet.
pub fn reports(details: &ConversationDetails) -> Vec<ConversationEvent> {
    let metadata = &details.metadata;
    let mut events = Vec::new();
    if let Some(credits) = metadata.cost {
        events.push(ConversationEvent::CostReported(CostReported {
            elevenlabs_conversation_id: details.conversation_id.clone(),
            credits: Credits::new(credits),
            call_duration_ms: u64::try_from(metadata.call_duration_secs).unwrap_or(0) * 1000,
            charging: metadata
                .charging
                .as_ref()
                .and_then(|c| serde_json::to_value(c).ok()),
        }));
    }
    if let Some(analysis) = &details.analysis {
        let raw = serde_json::to_value(analysis).unwrap_or_default();
        events.push(ConversationEvent::AnalysisReported(AnalysisReported {
            call_successful: raw
                .get("call_successful")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            summary: Some(analysis.transcript_summary.clone()).filter(|s| !s.is_empty()),
            termination_reason: Some(metadata.termination_reason.clone()).filter(|s| !s.is_empty()),
            analysis: raw,
        }));
    }
    events
}

/// Of `reports`, those the conversation does not hold yet: one cost and
/// one analysis per conversation, whoever reported first.
pub fn missing(facts: &Facts, reports: &[ConversationEvent]) -> Vec<ConversationEvent> {
    reports
        .iter()
        .filter(|event| match event {
            ConversationEvent::CostReported(_) => !facts.cost_reported,
            ConversationEvent::AnalysisReported(_) => !facts.analysis_reported,
            _ => false,
        })
        .cloned()
        .collect()
}

/// Waits for the record of `elevenlabs_id` and appends what it reports
/// that the log lacks, again while the log is unavailable (up to
/// [`LOG_WAIT`]). Gives up (logged) on timeout, error or shutdown; a
/// restarted copy resumes it (see `recovery`).
pub async fn report(
    rest: &RestClient,
    store: &EventStore,
    party: &Party,
    elevenlabs_id: &str,
    timeout: Duration,
    poll: Duration,
    cancel: &CancellationToken,
) {
    let conversation_id = party.conversation_id;
    let details = tokio::select! {
        () = cancel.cancelled() => return,
        details = rest.wait_for_conversation(elevenlabs_id, timeout, poll) => details,
    };
    let details = match details {
        Ok(details) => details,
        Err(e) => {
            tracing::warn!(%conversation_id, elevenlabs_id, error = %e, "no final record from ElevenLabs");
            return;
        }
    };
    if details.metadata.cost.is_none() {
        tracing::warn!(%conversation_id, elevenlabs_id, "the final record has no cost");
    }
    let reports = reports(&details);
    let deadline = tokio::time::Instant::now() + LOG_WAIT;
    let settled = loop {
        let settled = record::settle(store, conversation_id, |facts| {
            let missing = missing(facts, &reports);
            facts
                .party
                .clone()
                .map(|party| record::Plan::now(party, missing))
        })
        .await;
        match settled {
            // A NATS node lost: its streams answer again once a new leader is elected.
            Err(eventstore::Error::Unavailable(reason))
                if tokio::time::Instant::now() < deadline =>
            {
                tracing::warn!(%conversation_id, %reason, "log unavailable; recording the cost again shortly");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(LOG_RETRY) => {}
                }
            }
            settled => break settled,
        }
    };
    match settled {
        Ok(settled) if settled.appended.is_empty() => {
            tracing::info!(%conversation_id, elevenlabs_id, "ElevenLabs' record was already in the log");
        }
        Ok(_) => {}
        Err(e) => tracing::error!(%conversation_id, error = %e, "could not record the cost"),
    }
}
