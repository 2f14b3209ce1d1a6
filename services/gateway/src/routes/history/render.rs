//! A `conversations` document in ElevenLabs' JSON (elevenlabs-protocol.md
//! §2.2–2.3): `ConversationSummaryResponseModel` and
//! `GetConversationResponseModel`. Fields Parlor does not record are null
//! or absent, as ElevenLabs' optional fields may be.

use bson::{Bson, Document};
use serde::Serialize;
use serde_json::Value;

use crate::routes::conversations::query::{Status, Verdict};

/// `GetConversationsPageResponseModel`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationsPage {
    pub conversations: Vec<ConversationSummary>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// `ConversationSummaryResponseModel`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationSummary {
    pub agent_id: String,
    pub agent_name: Option<String>,
    /// The id the client learned over the WebSocket (ElevenLabs' `conv_…`);
    /// Parlor's id for a call ElevenLabs never accepted.
    pub conversation_id: String,
    pub start_time_unix_secs: i64,
    pub call_duration_secs: i64,
    pub message_count: i64,
    pub status: Status,
    pub call_successful: Verdict,
    /// Only with `summary_mode=include`.
    pub transcript_summary: Option<String>,
    pub call_summary_title: Option<String>,
    pub direction: Option<String>,
    pub termination_reason: Option<String>,
    /// Credits.
    pub cost: Option<i64>,
}

/// `GetConversationResponseModel`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationDetail {
    pub agent_id: String,
    pub agent_name: Option<String>,
    pub conversation_id: String,
    pub status: Status,
    /// The Parlor user who held the call.
    pub user_id: Option<String>,
    pub transcript: Vec<TranscriptTurn>,
    pub metadata: HistoryMetadata,
    /// ElevenLabs' analysis; null until it is reported.
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<Value>,
    /// Parlor serves no recordings, so these are false.
    pub has_audio: bool,
    pub has_user_audio: bool,
    pub has_response_audio: bool,
    pub has_auxiliary_audio: bool,
}

/// `ConversationHistoryTranscriptCommonModel`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TranscriptTurn {
    /// `user` or `agent`.
    pub role: String,
    pub message: Option<String>,
    pub time_in_call_secs: i64,
    #[schema(value_type = Vec<Object>)]
    pub tool_calls: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub tool_results: Vec<Value>,
    #[schema(value_type = Option<Object>)]
    pub feedback: Option<Value>,
    pub llm_override: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub conversation_turn_metrics: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub rag_retrieval_info: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub llm_usage: Option<Value>,
    pub interrupted: bool,
    pub original_message: Option<String>,
    pub source_medium: Option<String>,
}

/// `ConversationHistoryMetadataCommonModel`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryMetadata {
    pub start_time_unix_secs: i64,
    pub accepted_time_unix_secs: Option<i64>,
    pub call_duration_secs: i64,
    /// Credits: ElevenLabs' figure once reported, Parlor's estimate before.
    pub cost: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub charging: Option<Value>,
    pub termination_reason: String,
    pub error: Option<HistoryError>,
}

/// `ConversationHistoryErrorCommonModel`: the close code and reason.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryError {
    pub code: i64,
    pub reason: Option<String>,
}

/// What the list needs of each document (the transcript is not read).
pub fn summary_projection() -> Document {
    bson::doc! {
        "agentId": 1, "startedAt": 1, "duration": 1, "cost": 1, "status": 1,
        "metrics.messageCount": 1, "metadata.elevenlabs_conversation_id": 1,
        "metadata.termination_reason": 1, "metadata.analysis.call_successful": 1,
        "metadata.analysis.transcript_summary": 1, "metadata.analysis.call_summary_title": 1,
    }
}

/// The list item of `document`.
pub fn summary(document: &Document, include_summary: bool) -> ConversationSummary {
    let view = View(document);
    let analysis = view.analysis();
    ConversationSummary {
        agent_id: view.agent_id(),
        agent_name: None,
        conversation_id: view.conversation_id(),
        start_time_unix_secs: view.start_secs(),
        call_duration_secs: i64::from(document.get_i32("duration").unwrap_or(0)),
        message_count: document
            .get_document("metrics")
            .ok()
            .and_then(|m| m.get_i32("messageCount").ok())
            .map_or(0, i64::from),
        status: view.status(),
        call_successful: view.verdict(),
        transcript_summary: include_summary
            .then(|| text(analysis, "transcript_summary"))
            .flatten(),
        call_summary_title: text(analysis, "call_summary_title"),
        direction: None,
        termination_reason: text(view.metadata(), "termination_reason"),
        cost: Some(view.credits()),
    }
}

/// The details of `document`, with every message (embedded and overflowed).
pub fn detail(document: &Document, messages: &[Document]) -> ConversationDetail {
    let view = View(document);
    let metadata = view.metadata();
    let error = metadata.and_then(|m| {
        let code = m.get_i32("close_code").ok().map(i64::from);
        let reason = text(Some(m), "failure_message");
        (code.is_some() || reason.is_some()).then(|| HistoryError {
            code: code.unwrap_or(0),
            reason,
        })
    });
    ConversationDetail {
        agent_id: view.agent_id(),
        agent_name: None,
        conversation_id: view.conversation_id(),
        status: view.status(),
        user_id: document.get_object_id("userId").ok().map(|id| id.to_hex()),
        transcript: transcript(messages, metadata),
        metadata: HistoryMetadata {
            start_time_unix_secs: view.start_secs(),
            accepted_time_unix_secs: Some(view.start_secs()),
            call_duration_secs: i64::from(document.get_i32("duration").unwrap_or(0)),
            cost: Some(view.credits()),
            charging: metadata
                .and_then(|m| m.get("charging"))
                .map(|c| c.clone().into_relaxed_extjson()),
            termination_reason: text(metadata, "termination_reason").unwrap_or_default(),
            error,
        },
        analysis: view.analysis().map(analysis),
        has_audio: false,
        has_user_audio: false,
        has_response_audio: false,
        has_auxiliary_audio: false,
    }
}

/// ElevenLabs' analysis with the two fields its model requires always set.
fn analysis(reported: &Document) -> Value {
    let mut value = Bson::Document(reported.clone()).into_relaxed_extjson();
    if let Value::Object(fields) = &mut value {
        fields
            .entry("call_successful")
            .or_insert_with(|| Value::from("unknown"));
        fields
            .entry("transcript_summary")
            .or_insert_with(|| Value::from(""));
    }
    value
}

/// The turns, each client tool call the agent made (`metadata.tool_calls`)
/// on the last agent turn said by then, as ElevenLabs places them.
fn transcript(messages: &[Document], metadata: Option<&Document>) -> Vec<TranscriptTurn> {
    let mut turns: Vec<TranscriptTurn> = messages.iter().map(turn).collect();
    let calls = metadata
        .and_then(|m| m.get_array("tool_calls").ok())
        .into_iter()
        .flatten()
        .filter_map(Bson::as_document);
    for call in calls {
        let at = i64::from(call.get_i32("time_in_call_secs").unwrap_or(0));
        let last_agent = || turns.iter().rposition(|t| t.role == "agent");
        let Some(index) = turns
            .iter()
            .rposition(|t| t.role == "agent" && t.time_in_call_secs <= at)
            .or_else(last_agent)
        else {
            continue;
        };
        turns[index].tool_calls.push(serde_json::json!({
            "type": "client",
            "request_id": call.get_str("tool_call_id").unwrap_or_default(),
            "tool_name": call.get_str("tool_name").unwrap_or_default(),
            "params_as_json": "{}",
            "tool_has_been_called": true,
            "tool_details": null,
        }));
    }
    turns
}

fn turn(message: &Document) -> TranscriptTurn {
    TranscriptTurn {
        role: message.get_str("role").unwrap_or("agent").to_owned(),
        message: message.get_str("message").ok().map(str::to_owned),
        time_in_call_secs: i64::from(message.get_i32("timeInCallSecs").unwrap_or(0)),
        tool_calls: Vec::new(),
        tool_results: Vec::new(),
        feedback: None,
        llm_override: None,
        conversation_turn_metrics: None,
        rag_retrieval_info: None,
        llm_usage: None,
        interrupted: message.get_bool("interrupted").unwrap_or(false),
        original_message: None,
        source_medium: None,
    }
}

fn text(document: Option<&Document>, key: &str) -> Option<String> {
    document?.get_str(key).ok().map(str::to_owned)
}

/// Readings of a `conversations` document shared by both shapes.
struct View<'a>(&'a Document);

impl View<'_> {
    fn metadata(&self) -> Option<&Document> {
        self.0.get_document("metadata").ok()
    }

    fn analysis(&self) -> Option<&Document> {
        self.metadata()?.get_document("analysis").ok()
    }

    fn agent_id(&self) -> String {
        self.0.get_str("agentId").unwrap_or_default().to_owned()
    }

    /// ElevenLabs' id once the call started, else Parlor's.
    fn conversation_id(&self) -> String {
        text(self.metadata(), "elevenlabs_conversation_id").unwrap_or_else(|| {
            self.0
                .get_object_id("_id")
                .map(|id| id.to_hex())
                .unwrap_or_default()
        })
    }

    fn start_secs(&self) -> i64 {
        self.0
            .get_datetime("startedAt")
            .map_or(0, |at| at.timestamp_millis().div_euclid(1000))
    }

    fn status(&self) -> Status {
        // The projector writes only these words; a document from a newer
        // build with another one reads as still running.
        self.0
            .get_str("status")
            .ok()
            .and_then(Status::parse)
            .unwrap_or(Status::InProgress)
    }

    fn verdict(&self) -> Verdict {
        text(self.analysis(), "call_successful")
            .as_deref()
            .and_then(Verdict::parse)
            .unwrap_or(Verdict::Unknown)
    }

    /// `cost` is whole credits stored as a double.
    fn credits(&self) -> i64 {
        self.0.get_f64("cost").map_or(0, |c| c.round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    #[test]
    fn a_tool_call_sits_on_the_last_agent_turn_said_by_then() {
        let line =
            |role: &str, secs: i32| doc! { "role": role, "message": "x", "timeInCallSecs": secs };
        let messages = [
            line("agent", 0),
            line("user", 2),
            line("agent", 3),
            line("agent", 9),
        ];
        let metadata = doc! { "tool_calls": [
            { "tool_call_id": "t1", "tool_name": "lookup", "time_in_call_secs": 5 },
        ] };
        let turns = transcript(&messages, Some(&metadata));
        let with_calls: Vec<usize> = turns
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.tool_calls.is_empty())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(with_calls, [2]);
        assert_eq!(turns[2].tool_calls[0]["request_id"], "t1");
        assert_eq!(turns[2].tool_calls[0]["tool_name"], "lookup");
    }
}
