//! After a call: ElevenLabs' own record, polled until `done`, becomes
//! `cost_reported` and `analysis_reported`.

use std::time::Duration;

use elevenlabs::RestClient;
use events::ConversationEvent;
use events::Credits;
use events::conversation::{AnalysisReported, CostReported};
use tokio_util::sync::CancellationToken;

use crate::log::ConversationLog;

/// Waits for the record of `elevenlabs_id` and appends what it reports.
/// Gives up (logged) on timeout, error or shutdown; a restarted copy
/// resumes it (see `recovery`).
pub async fn report(
    rest: &RestClient,
    log: &mut ConversationLog,
    elevenlabs_id: &str,
    timeout: Duration,
    poll: Duration,
    cancel: &CancellationToken,
) {
    let conversation_id = log.party().conversation_id;
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
    let metadata = &details.metadata;
    match metadata.cost {
        Some(credits) => {
            let event = ConversationEvent::CostReported(CostReported {
                elevenlabs_conversation_id: elevenlabs_id.to_owned(),
                credits: Credits::new(credits),
                call_duration_ms: u64::try_from(metadata.call_duration_secs).unwrap_or(0) * 1000,
                charging: metadata
                    .charging
                    .as_ref()
                    .and_then(|c| serde_json::to_value(c).ok()),
            });
            if let Err(e) = log.append(event).await {
                tracing::error!(%conversation_id, error = %e, "could not record the cost");
                return;
            }
        }
        None => tracing::warn!(%conversation_id, elevenlabs_id, "the final record has no cost"),
    }
    if let Some(analysis) = &details.analysis {
        let raw = serde_json::to_value(analysis).unwrap_or_default();
        let event = ConversationEvent::AnalysisReported(AnalysisReported {
            call_successful: raw
                .get("call_successful")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            summary: Some(analysis.transcript_summary.clone()).filter(|s| !s.is_empty()),
            termination_reason: Some(metadata.termination_reason.clone()).filter(|s| !s.is_empty()),
            analysis: raw,
        });
        if let Err(e) = log.append(event).await {
            tracing::error!(%conversation_id, error = %e, "could not record the analysis");
        }
    }
}
