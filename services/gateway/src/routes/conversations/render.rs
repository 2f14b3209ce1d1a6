//! A `conversations` document in Parlor's own JSON: the Prisma
//! `Conversation` field names and types (ids as strings, times RFC 3339,
//! `duration` an integer, `cost` a number), plus the projector's sentiment
//! and, for one conversation, its ledger trail. What was said (transcript,
//! messages, metadata, analysis, sentiment) goes only to callers who may
//! read it; finance gets the rest of everyone's.

use bson::{Bson, DateTime, Document};
use serde::Serialize;
use serde_json::Value;

use super::query::Status;

/// A page of conversations.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationPage {
    pub conversations: Vec<ConversationItem>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// One conversation in a list.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationItem {
    /// Parlor's 24-hex id.
    pub id: String,
    /// ElevenLabs' `conv_…` id, once the call started.
    pub elevenlabs_conversation_id: Option<String>,
    pub agent_id: String,
    pub user_id: String,
    pub status: Status,
    /// RFC 3339.
    pub started_at: String,
    pub ended_at: String,
    /// Whole seconds.
    pub duration: i32,
    /// Credits.
    pub cost: f64,
    pub metrics: Metrics,
    /// Null to a caller who may not read what was said.
    pub sentiment: Option<Sentiment>,
}

/// One conversation whole.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDocument {
    #[serde(flatten)]
    pub item: ConversationItem,
    /// One `role: text` line per embedded message; null to a caller who
    /// may not read what was said (finance, on another user's call).
    pub transcript: Option<String>,
    /// Every message, those past the document's cap included; null as
    /// `transcript` is.
    pub messages: Option<Vec<Message>>,
    /// The document's `metadata` as stored (mode, termination reason,
    /// charging, analysis, …); null before anything was recorded, and
    /// null as `transcript` is.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// ElevenLabs' analysis, once reported; null as `transcript` is.
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<Value>,
    /// The ledger entries booked for this conversation, in stream order.
    pub ledger: Vec<LedgerEntry>,
}

/// The seed's `ConversationMetrics`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// Milliseconds over the agent turns that have a latency.
    pub total_latency: i32,
    pub average_latency: f64,
    pub message_count: i32,
    pub credits_used: f64,
    pub cost_per_minute: f64,
}

/// What the caller felt: ElevenLabs' judgement when its analysis has one,
/// else the mean lexicon score of the user's messages.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Sentiment {
    /// In (−1, 1); absent when ElevenLabs gave only a label.
    pub score: Option<f64>,
    /// `positive`, `neutral` or `negative`.
    pub label: String,
    /// `lexicon` or `elevenlabs`.
    pub source: String,
}

/// One line said in the call.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// `user` or `agent`.
    pub role: String,
    pub message: String,
    pub time_in_call_secs: i32,
    pub at: String,
    pub latency_ms: Option<i32>,
    pub interrupted: Option<bool>,
    pub sentiment: Option<f64>,
}

/// One posting of the conversation's ledger trail.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    /// `<stream sequence>:<leg>`.
    pub id: String,
    /// `user-<id>` or `system-<name>`.
    pub account: String,
    /// Signed: negative leaves the account.
    pub credits: i64,
    pub event_type: String,
    pub event_id: String,
    pub sequence: i64,
    pub occurred_at: String,
    pub correlation_id: String,
    pub causation_id: Option<String>,
}

/// What the list reads of each document.
pub fn item_projection() -> Document {
    bson::doc! {
        "userId": 1, "agentId": 1, "status": 1, "startedAt": 1, "endedAt": 1,
        "duration": 1, "cost": 1, "metrics": 1,
        "metadata.elevenlabs_conversation_id": 1, "metadata.sentiment": 1,
    }
}

/// A list item; `said`: whether the caller may read what was said.
pub fn item(document: &Document, said: bool) -> ConversationItem {
    let metadata = document.get_document("metadata").ok();
    let metrics = document.get_document("metrics").ok();
    let metric_f64 = |key| metrics.and_then(|m| m.get_f64(key).ok()).unwrap_or(0.0);
    let metric_i32 = |key| metrics.and_then(|m| m.get_i32(key).ok()).unwrap_or(0);
    ConversationItem {
        id: hex(document, "_id"),
        elevenlabs_conversation_id: metadata
            .and_then(|m| m.get_str("elevenlabs_conversation_id").ok())
            .map(str::to_owned),
        agent_id: document.get_str("agentId").unwrap_or_default().to_owned(),
        user_id: hex(document, "userId"),
        status: document
            .get_str("status")
            .ok()
            .and_then(Status::parse)
            .unwrap_or(Status::InProgress),
        started_at: time(document.get_datetime("startedAt").ok()),
        ended_at: time(document.get_datetime("endedAt").ok()),
        duration: document.get_i32("duration").unwrap_or(0),
        cost: document.get_f64("cost").unwrap_or(0.0),
        metrics: Metrics {
            total_latency: metric_i32("totalLatency"),
            average_latency: metric_f64("averageLatency"),
            message_count: metric_i32("messageCount"),
            credits_used: metric_f64("creditsUsed"),
            cost_per_minute: metric_f64("costPerMinute"),
        },
        sentiment: metadata
            .filter(|_| said)
            .and_then(|m| m.get_document("sentiment").ok())
            .map(|s| Sentiment {
                score: s.get_f64("score").ok(),
                label: s.get_str("label").unwrap_or("neutral").to_owned(),
                source: s.get_str("source").unwrap_or("lexicon").to_owned(),
            }),
    }
}

/// One conversation whole; `messages` is `None` for a caller who may not
/// read what was said, who then gets none of it.
pub fn document(
    document: &Document,
    messages: Option<&[Document]>,
    ledger: &[Document],
) -> ConversationDocument {
    let said = messages.is_some();
    let metadata = document.get_document("metadata").ok().filter(|_| said);
    ConversationDocument {
        item: item(document, said),
        transcript: said.then(|| {
            document
                .get_str("transcript")
                .unwrap_or_default()
                .to_owned()
        }),
        messages: messages.map(|all| all.iter().map(message).collect()),
        metadata: metadata.map(|m| Bson::Document(m.clone()).into_relaxed_extjson()),
        analysis: metadata
            .and_then(|m| m.get_document("analysis").ok())
            .map(|a| Bson::Document(a.clone()).into_relaxed_extjson()),
        ledger: ledger.iter().map(entry).collect(),
    }
}

fn message(m: &Document) -> Message {
    Message {
        role: m.get_str("role").unwrap_or_default().to_owned(),
        message: m.get_str("message").unwrap_or_default().to_owned(),
        time_in_call_secs: m.get_i32("timeInCallSecs").unwrap_or(0),
        at: time(m.get_datetime("at").ok()),
        latency_ms: m.get_i32("latencyMs").ok(),
        interrupted: m.get_bool("interrupted").ok(),
        sentiment: m.get_f64("sentiment").ok(),
    }
}

fn entry(e: &Document) -> LedgerEntry {
    let text = |key| e.get_str(key).unwrap_or_default().to_owned();
    LedgerEntry {
        id: text("_id"),
        account: text("account"),
        credits: e.get_i64("credits").unwrap_or(0),
        event_type: text("eventType"),
        event_id: text("eventId"),
        sequence: e.get_i64("sequence").unwrap_or(0),
        occurred_at: time(e.get_datetime("occurredAt").ok()),
        correlation_id: text("correlationId"),
        causation_id: e.get_str("causationId").ok().map(str::to_owned),
    }
}

fn hex(document: &Document, key: &str) -> String {
    document
        .get_object_id(key)
        .map(|id| id.to_hex())
        .unwrap_or_default()
}

/// RFC 3339 with milliseconds, UTC.
pub fn time(at: Option<&DateTime>) -> String {
    at.and_then(|t| t.try_to_rfc3339_string().ok())
        .unwrap_or_default()
}
