//! After the socket closes: the record goes `processing`, is priced and
//! analysed, goes `done` (or `failed`), and the signed
//! `post_call_transcription` webhook is sent (§1.6, §3, §6 items 7 and 9).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::event::{ConversationStatus, SimEvent};
use crate::fault::Fault;
use crate::pricing::call_credits;
use crate::records::Charging;
use crate::state::Shared;
use crate::webhook::{deliver, unix_now};

/// How a call went, as the session saw it.
#[derive(Debug)]
pub(crate) struct CallOutcome {
    pub(crate) conversation_id: String,
    pub(crate) duration_secs: u64,
    pub(crate) transcript: Vec<Value>,
    pub(crate) termination_reason: String,
    pub(crate) close_code: Option<u16>,
    pub(crate) error: Option<(u16, String)>,
    pub(crate) has_user_audio: bool,
    pub(crate) has_response_audio: bool,
}

impl CallOutcome {
    /// No turn ever happened and the server refused the call.
    fn never_started(&self) -> bool {
        self.transcript.is_empty() && self.error.is_some()
    }

    fn call_successful(&self) -> &'static str {
        let user_spoke = self.transcript.iter().any(|t| t["role"] == "user");
        match (&self.error, user_spoke) {
            (Some(_), _) => "failure",
            (None, true) => "success",
            (None, false) => "unknown",
        }
    }
}

/// Records the outcome and runs the rest of the pipeline in the background.
pub(crate) fn finish(shared: Arc<Shared>, outcome: CallOutcome) {
    shared.emit(SimEvent::ConversationEnded {
        conversation_id: outcome.conversation_id.clone(),
        close_code: outcome.close_code,
        termination_reason: outcome.termination_reason.clone(),
    });
    let estimate = call_credits(shared.tier, outcome.duration_secs);
    let delta = shared.faults.take(|f| match f {
        Fault::CostDelta(d) => Some(*d),
        _ => None,
    });
    let call_charge = estimate.saturating_add_signed(delta.unwrap_or(0));
    let successful = outcome.call_successful();
    let final_status = if outcome.never_started() {
        ConversationStatus::Failed
    } else {
        ConversationStatus::Done
    };
    let id = outcome.conversation_id.clone();
    let user_turns = outcome
        .transcript
        .iter()
        .filter(|t| t["role"] == "user")
        .count();
    let tier = shared.tier.as_str();
    shared.records.update(&id, move |r| {
        r.status = ConversationStatus::Processing;
        r.call_duration_secs = outcome.duration_secs;
        r.transcript = outcome.transcript;
        r.termination_reason = outcome.termination_reason;
        r.error = outcome.error;
        r.has_user_audio = outcome.has_user_audio;
        r.has_response_audio = outcome.has_response_audio;
        r.call_successful = successful;
        r.charging = Some(Charging {
            cost: call_charge,
            call_charge,
            llm_charge: 0,
            llm_price: 0.0,
            tier,
        });
    });
    tokio::spawn(async move {
        tokio::time::sleep(shared.timing.processing_delay).await;
        let analysis = json!({
            "call_successful": successful,
            "transcript_summary": format!("The user and the agent talked; the user spoke {user_turns} time(s)."),
            "call_summary_title": "Simulated conversation",
            "evaluation_criteria_results": {},
            "data_collection_results": {},
        });
        let still_there = shared.records.update(&id, |r| {
            r.analysis = Some(analysis);
            r.status = final_status;
        });
        if still_there && final_status == ConversationStatus::Done {
            send_webhook(shared, id).await;
        }
    });
}

async fn send_webhook(shared: Arc<Shared>, conversation_id: String) {
    let Some(config) = shared.webhook.clone() else {
        return;
    };
    let Some(data) = shared.records.details(&conversation_id) else {
        return;
    };
    if shared
        .faults
        .take(|f| (*f == Fault::LoseWebhook).then_some(()))
        .is_some()
    {
        shared.emit(SimEvent::WebhookLost { conversation_id });
        return;
    }
    let delay = shared.faults.take(|f| match f {
        Fault::DelayWebhook(d) => Some(*d),
        _ => None,
    });
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let envelope = json!({
        "type": "post_call_transcription",
        "event_timestamp": unix_now(),
        "data": data,
    });
    let body = envelope.to_string().into_bytes();
    deliver(shared, config, conversation_id, body).await;
}
