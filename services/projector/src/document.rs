//! The `conversations` document: the Prisma `Conversation` shape (see the
//! crate doc) plus a `projection` sub-document of bookkeeping that Prisma
//! ignores. Field types are chosen so serde writes exactly the BSON types
//! Prisma expects: `i32` → Int32, `f64` → Double, `bson::DateTime` → Date.

use events::{AgentId, ConversationId, UserId};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use crate::metrics;
use crate::sketch::LatencySketch;
use crate::transcript;

/// ElevenLabs' words for where a conversation is.
pub mod status {
    pub const INITIATED: &str = "initiated";
    pub const IN_PROGRESS: &str = "in-progress";
    pub const PROCESSING: &str = "processing";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
}

/// Who said a message, as the `role` field spells it.
pub mod role {
    pub const USER: &str = "user";
    pub const AGENT: &str = "agent";
}

/// One `conversations` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: ObjectId,
    pub agent_id: String,
    pub transcript: String,
    /// Whole seconds.
    pub duration: i32,
    /// Credits.
    pub cost: f64,
    pub started_at: DateTime,
    pub ended_at: DateTime,
    pub status: String,
    pub messages: Vec<Message>,
    pub metrics: Metrics,
    pub metadata: Option<Document>,
    pub projection: Projection,
    /// What applying events left for the writer besides this document; never stored.
    #[serde(skip)]
    pub pending: Pending,
}

/// `agentId` until an event names the agent: a ledger event can be
/// projected before its conversation's first event, and Prisma's `String`
/// must never be empty for dashboards that group by agent.
pub const UNKNOWN_AGENT: &str = "unknown";

/// Messages beyond this many live only in `conversation_messages`, so a
/// document stays far below MongoDB's 16 MB however long the call.
pub const DEFAULT_EMBEDDED_MESSAGES: usize = 500;

/// The writer's side of applying events: how many messages to embed, and
/// the changes to overflowed messages still to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub embedded_messages: usize,
    pub overflow: Vec<OverflowOp>,
    /// `projection.latency_sketch` decoded, once a latency is added:
    /// [`ConversationDoc::derive`] encodes it back, once per write rather
    /// than once per message.
    pub latency: Option<LatencySketch>,
}

impl Default for Pending {
    fn default() -> Self {
        Self {
            embedded_messages: DEFAULT_EMBEDDED_MESSAGES,
            overflow: Vec::new(),
            latency: None,
        }
    }
}

/// A change to the messages kept outside the document, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum OverflowOp {
    /// Message number `index` (0-based, across the whole call) was said.
    Said {
        index: i64,
        message: Message,
        event_id: Option<i64>,
    },
    /// The agent message found by `at` now reads `text`; when `original`
    /// is given, only if it still reads that.
    Corrected {
        at: OverflowRef,
        original: Option<String>,
        text: String,
    },
    /// The agent message found by `at` was cut off.
    Interrupted { at: OverflowRef },
    /// Every overflowed message is gone (a submitted transcript replaced them).
    Cleared,
}

/// How an overflowed agent message is found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OverflowRef {
    EventId(i64),
    Index(i64),
}

/// One line said in the call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub role: String,
    pub message: String,
    pub time_in_call_secs: i32,
    pub at: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<bool>,
    /// [`crate::sentiment::score`] of the text; Prisma ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f64>,
}

/// Figures derived from the messages, the charge and the duration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// Milliseconds, summed over agent turns that have a latency.
    pub total_latency: i32,
    /// Milliseconds per agent turn that has a latency; 0 when none has.
    pub average_latency: f64,
    pub message_count: i32,
    pub credits_used: f64,
    /// 0 for a zero-length call, never NaN or infinite.
    pub cost_per_minute: f64,
}

/// What the projector needs to apply the next event; not part of the Prisma model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    /// What the document has applied, as one number (see
    /// [`Projection::applied_version`]).
    pub version: i64,
    /// The last CONVERSATIONS stream sequence applied (0: none).
    pub conversation_seq: i64,
    /// The last LEDGER stream sequence applied (0: none).
    pub ledger_seq: i64,
    /// The call's length to the millisecond; `duration` is its rounding.
    pub duration_ms: i64,
    /// Credits captured from the hold plus any excess charged.
    pub charged_credits: i64,
    /// ElevenLabs' figure once the charge was adjusted to it.
    pub actual_credits: Option<i64>,
    /// ElevenLabs' `event_id` of each message (null for user messages), in
    /// step with `messages`, to match corrections and interruptions.
    pub message_event_ids: Vec<Option<i64>>,
    /// Messages said in the whole call, embedded or overflowed.
    #[serde(default)]
    pub messages_total: i64,
    /// Sum and count of the agent turns that have a latency.
    #[serde(default)]
    pub latency_sum_ms: i64,
    #[serde(default)]
    pub latency_turns: i64,
    /// Index (across the call) of the last agent message.
    #[serde(default)]
    pub last_agent_index: Option<i64>,
    /// Sum and count of the user messages' sentiment scores.
    #[serde(default)]
    pub user_sentiment_sum: f64,
    #[serde(default)]
    pub user_sentiment_count: i64,
    /// The call's turn latencies ([`crate::sketch`]), merged per agent.
    #[serde(default)]
    pub latency_sketch: Option<bson::Binary>,
}

impl Projection {
    /// The sum of the last sequences applied from each stream: it grows
    /// with every change and depends only on what was applied, never on
    /// how events were batched, so two copies, or a rebuild, reach the
    /// same version for the same document.
    pub fn applied_version(&self) -> i64 {
        self.conversation_seq.saturating_add(self.ledger_seq)
    }
}

impl ConversationDoc {
    /// A document with every Prisma field present and zeroed, as of `at`.
    pub fn new(id: ConversationId, user: Option<UserId>, at: DateTime) -> Self {
        Self {
            id: ObjectId::from_bytes(id.bytes()),
            user_id: user.map_or_else(placeholder_user, |u| ObjectId::from_bytes(u.bytes())),
            agent_id: UNKNOWN_AGENT.to_owned(),
            transcript: String::new(),
            duration: 0,
            cost: 0.0,
            started_at: at,
            ended_at: at,
            status: status::INITIATED.to_owned(),
            messages: Vec::new(),
            metrics: Metrics::default(),
            metadata: None,
            projection: Projection::default(),
            pending: Pending::default(),
        }
    }

    /// Fills in the user and agent when an event carries them.
    pub fn identify(&mut self, user: Option<UserId>, agent: Option<&AgentId>) {
        if let Some(user) = user {
            self.user_id = ObjectId::from_bytes(user.bytes());
        }
        if let Some(agent) = agent {
            agent.as_str().clone_into(&mut self.agent_id);
        }
    }

    /// True once the call is over: its `endedAt` no longer moves.
    pub fn is_over(&self) -> bool {
        self.status != status::INITIATED && self.status != status::IN_PROGRESS
    }

    /// The credits the conversation costs now: ElevenLabs' figure once
    /// adjusted, the estimate charged before that.
    pub fn credits(&self) -> i64 {
        self.projection
            .actual_credits
            .unwrap_or(self.projection.charged_credits)
    }

    /// Recomputes every derived field (transcript, duration, cost, metrics)
    /// from the messages and the bookkeeping.
    pub fn derive(&mut self) {
        if let Some(sketch) = &self.pending.latency {
            self.projection.latency_sketch = Some(sketch.encode());
        }
        self.transcript = transcript::render(&self.messages);
        self.duration = metrics::whole_seconds(self.projection.duration_ms);
        // Exact: a call's credits are far below 2^53.
        let credits = self.credits() as f64;
        self.cost = credits;
        self.metrics = metrics::compute(&self.projection, credits, self.duration);
        let analysis = self
            .metadata
            .as_ref()
            .and_then(|m| m.get_document("analysis").ok());
        // Set or removed each time, so the document depends only on the
        // events applied, never on how they were batched.
        let sentiment = crate::sentiment::of_conversation(
            analysis,
            self.projection.user_sentiment_sum,
            self.projection.user_sentiment_count,
        );
        self.put_metadata("sentiment", sentiment.map(Bson::Document));
        let overflowed = self.projection.messages_total - len_i64(self.messages.len());
        let overflow = (overflowed > 0).then(|| {
            bson::doc! {
                "collection": crate::names::CONVERSATION_MESSAGES,
                "count": overflowed,
            }
        });
        self.put_metadata("messages_overflow", overflow.map(Bson::Document));
    }

    /// Sets or removes a derived metadata field; metadata left empty is none.
    fn put_metadata(&mut self, key: &str, value: Option<Bson>) {
        match value {
            Some(value) => self.set_metadata(key, value),
            None => {
                if let Some(metadata) = &mut self.metadata {
                    metadata.remove(key);
                    if metadata.is_empty() {
                        self.metadata = None;
                    }
                }
            }
        }
    }

    /// Sets the metadata field `key`, creating the object on first use.
    pub fn set_metadata(&mut self, key: &str, value: impl Into<bson::Bson>) {
        self.metadata
            .get_or_insert_with(Document::new)
            .insert(key, value.into());
    }

    pub fn to_bson(&self) -> Result<Document, bson::ser::Error> {
        bson::to_document(self)
    }

    pub fn from_bson(document: Document) -> Result<Self, bson::de::Error> {
        bson::from_document(document)
    }
}

/// Stands in for the user until an event names them: every conversation
/// event carries `user_id`, so this only shows when a ledger event without
/// one arrives first. All zeros, never a real user's id.
fn placeholder_user() -> ObjectId {
    ObjectId::from_bytes([0; 12])
}

/// A length as an `i64`, saturating.
pub fn len_i64(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// Milliseconds to an `i32`, saturating instead of wrapping.
pub fn saturating_i32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Milliseconds to an `i64`, saturating instead of wrapping.
pub fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use mongodb::bson::Bson;

    use super::*;

    #[test]
    fn a_new_document_has_every_prisma_field_with_its_bson_type() {
        let at = DateTime::from_millis(1_700_000_000_000);
        let doc = ConversationDoc::new(ConversationId::new(), Some(UserId::new()), at)
            .to_bson()
            .expect("serialises");
        assert!(matches!(doc.get("_id"), Some(Bson::ObjectId(_))));
        assert!(matches!(doc.get("userId"), Some(Bson::ObjectId(_))));
        assert_eq!(
            doc.get("agentId"),
            Some(&Bson::String(UNKNOWN_AGENT.into()))
        );
        assert_eq!(doc.get("transcript"), Some(&Bson::String(String::new())));
        assert_eq!(doc.get("duration"), Some(&Bson::Int32(0)));
        assert_eq!(doc.get("cost"), Some(&Bson::Double(0.0)));
        assert_eq!(doc.get("startedAt"), Some(&Bson::DateTime(at)));
        assert_eq!(doc.get("endedAt"), Some(&Bson::DateTime(at)));
        assert_eq!(doc.get("status"), Some(&Bson::String("initiated".into())));
        assert_eq!(doc.get("messages"), Some(&Bson::Array(vec![])));
        assert_eq!(doc.get("metadata"), Some(&Bson::Null));
        let metrics = doc.get_document("metrics").expect("metrics");
        assert_eq!(metrics.get("totalLatency"), Some(&Bson::Int32(0)));
        assert_eq!(metrics.get("averageLatency"), Some(&Bson::Double(0.0)));
        assert_eq!(metrics.get("messageCount"), Some(&Bson::Int32(0)));
        assert_eq!(metrics.get("creditsUsed"), Some(&Bson::Double(0.0)));
        assert_eq!(metrics.get("costPerMinute"), Some(&Bson::Double(0.0)));
    }

    #[test]
    fn optional_message_fields_are_absent_not_null() {
        let message = Message {
            role: role::USER.into(),
            message: "hi".into(),
            time_in_call_secs: 3,
            at: DateTime::from_millis(0),
            latency_ms: None,
            interrupted: None,
            sentiment: None,
        };
        let doc = bson::to_document(&message).expect("serialises");
        assert_eq!(doc.get("timeInCallSecs"), Some(&Bson::Int32(3)));
        assert!(!doc.contains_key("latencyMs"));
        assert!(!doc.contains_key("interrupted"));
    }

    #[test]
    fn documents_round_trip() {
        let mut doc = ConversationDoc::new(ConversationId::new(), None, DateTime::from_millis(5));
        doc.set_metadata("elevenlabs_conversation_id", "conv_1");
        doc.projection.actual_credits = Some(7);
        doc.projection.message_event_ids = vec![None, Some(3)];
        let back = ConversationDoc::from_bson(doc.to_bson().expect("ser")).expect("de");
        assert_eq!(back, doc);
    }
}
