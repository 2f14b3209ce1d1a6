//! The request/reply messages between services over core NATS (DESIGN §6).
//!
//! Requests are imperative (`HoldCredits`); a reply is either the success
//! body or `{"error": {"code", "message"}}` — a refusal is a normal reply,
//! never a timeout.

use serde::{Deserialize, Serialize};

use crate::credits::Credits;
use crate::ids::{AgentId, ConversationId, CorrelationId, EventId, UserId};

/// Subjects of the commands, answered by a queue group named after the service.
pub mod subject {
    pub const SESSION_START: &str = "cmd.session.start";
    /// Facts about a conversation from outside a live call: a client-side
    /// transcript, ElevenLabs' post-call record ([`super::RecordConversation`]).
    pub const SESSION_RECORD: &str = "cmd.session.record";
    pub const LEDGER_HOLD: &str = "cmd.ledger.hold";
    pub const LEDGER_GRANT: &str = "cmd.ledger.grant";
    pub const LEDGER_BALANCE: &str = "cmd.ledger.balance";
    pub const LEDGER_EXTEND: &str = "cmd.ledger.extend";
    /// A grant whose unspent credits expire ([`super::GrantExpiringCredits`]).
    pub const LEDGER_GRANT_EXPIRING: &str = "cmd.ledger.grant_expiring";
    /// A manual correction by finance ([`super::CorrectCredits`]).
    pub const LEDGER_CORRECT: &str = "cmd.ledger.correct";
    /// The reconciliation report ([`super::Reconcile`]).
    pub const LEDGER_RECONCILE: &str = "cmd.ledger.reconcile";

    /// Client → agent frames of one live conversation.
    pub fn live_in(conversation: impl std::fmt::Display) -> String {
        format!("live.{conversation}.in")
    }

    /// Agent → client frames of one live conversation.
    pub fn live_out(conversation: impl std::fmt::Display) -> String {
        format!("live.{conversation}.out")
    }
}

/// How frames travel on the live subjects (`live.<id>.in` / `.out`).
///
/// One NATS message carries one WebSocket text frame, its body the frame's
/// JSON exactly as received (the ElevenLabs protocol passes through
/// untouched). A message with the [`CLOSE_CODE_HEADER`](live::CLOSE_CODE_HEADER)
/// header is instead the end of that direction: the header holds the
/// WebSocket close code, the body the close reason; nothing follows it.
/// The gateway sends 1006 when its client vanished without a close frame.
/// A message with the [`HEARTBEAT_HEADER`](live::HEARTBEAT_HEADER) header and
/// an empty body says the sender still holds the call (`bus::live` sends and
/// reads all three).
///
/// Frames are numbered so a frame core NATS dropped (its receiver's
/// connection moving to another server) is sent again: each frame carries
/// [`SEQ_HEADER`](live::SEQ_HEADER) (1, 2, …); each heartbeat carries the
/// number of the last frame sent and, in [`ACK_HEADER`](live::ACK_HEADER),
/// of the last one received in order. A receiver that sees a number skipped
/// sends [`RESEND_HEADER`](live::RESEND_HEADER) with the first missing
/// number on its own direction, and the other side sends its frames again
/// from there. A frame with no number is taken as it comes.
pub mod live {
    pub const CLOSE_CODE_HEADER: &str = "Parlor-Close-Code";
    pub const HEARTBEAT_HEADER: &str = "Parlor-Heartbeat";
    pub const SEQ_HEADER: &str = "Parlor-Seq";
    pub const ACK_HEADER: &str = "Parlor-Ack";
    pub const RESEND_HEADER: &str = "Parlor-Resend-From";
    /// Frames one side may have in flight before it stops reading its socket.
    pub const RELAY_BUFFER: usize = 256;
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    InsufficientCredits,
    AgentNotFound,
    /// Too many live conversations (for this user, or for the service).
    Busy,
    /// The request itself is malformed.
    InvalidRequest,
    /// A dependency (ElevenLabs, the log) cannot be reached now.
    Unavailable,
}

/// The body of a refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A reply on the wire: the success body, or `{"error": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reply<T> {
    Refused { error: Refusal },
    Done(T),
}

impl<T> Reply<T> {
    pub fn into_result(self) -> Result<T, Refusal> {
        match self {
            Self::Done(t) => Ok(t),
            Self::Refused { error } => Err(error),
        }
    }
}

impl<T> From<Result<T, Refusal>> for Reply<T> {
    fn from(result: Result<T, Refusal>) -> Self {
        match result {
            Ok(t) => Self::Done(t),
            Err(error) => Self::Refused { error },
        }
    }
}

/// `cmd.ledger.hold`: reserve credits before a conversation starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoldCredits {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub correlation_id: CorrelationId,
}

/// The hold placed (repeating the command for the same conversation
/// answers the same hold).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldPlaced {
    pub held: Credits,
    /// What the user can still spend after the hold.
    pub available: Credits,
    /// How much call time (from the start) the hold covers; the session
    /// asks `cmd.ledger.extend` before it runs out. Absent: the hold covers
    /// the whole call and is never extended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers_ms: Option<u64>,
}

/// `cmd.ledger.extend`: a running call's hold must cover the next period.
/// A refusal (`insufficient_credits`) makes the session end the call with
/// `credits_exhausted`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtendHold {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub correlation_id: CorrelationId,
    /// 1 for the first extension after the start hold, then 2, …: asking
    /// again for the same period answers the extension already made.
    pub period: u32,
}

/// The hold now covers the call up to `covers_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldExtended {
    /// Everything held for the call now.
    pub held: Credits,
    pub available: Credits,
    /// Call time (from the start) the hold covers after this extension.
    pub covers_ms: u64,
}

/// `cmd.ledger.grant`: give a user credits. `grant_id` makes a retry harmless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrantCredits {
    pub grant_id: EventId,
    pub user_id: UserId,
    pub credits: Credits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `cmd.ledger.balance`: read a user's balance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GetBalance {
    pub user_id: UserId,
}

/// A user's money, as the ledger knows it now (the reply to grant and balance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Spendable: granted minus charged minus held.
    pub available: Credits,
    /// Reserved by live conversations.
    pub held: Credits,
}

/// `cmd.session.start`: open a live conversation for a user and agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartSession {
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub correlation_id: CorrelationId,
    /// The client's `conversation_initiation_client_data`, passed upstream as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiation: Option<serde_json::Value>,
}

/// The live conversation is open; frames flow on these subjects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub conversation_id: ConversationId,
    /// Client → agent (the gateway publishes here).
    pub subject_in: String,
    /// Agent → client (the gateway subscribes here).
    pub subject_out: String,
}

/// `cmd.session.record`: record what is known of a conversation from
/// outside a live call. The session service folds the conversation's events
/// and appends only what the log does not hold yet (expecting the version
/// it read, so a race ends in a conflict and a re-check): the same record
/// sent twice, or a webhook and the session's own fetch of the same
/// ElevenLabs record, are recorded once. Replies with [`Recorded`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordConversation {
    /// Parlor's id (for an ElevenLabs id the asker resolved or derived it).
    pub conversation_id: ConversationId,
    pub correlation_id: CorrelationId,
    pub record: Record,
}

/// What [`RecordConversation`] records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A client-side conversation's transcript: a new conversation becomes
    /// `conversation.requested` (mode `client_side`, at `started_at`) and
    /// `conversation.transcript_submitted`; one that already has events
    /// gets nothing.
    Transcript {
        user_id: UserId,
        agent_id: AgentId,
        started_at: chrono::DateTime<chrono::Utc>,
        transcript: crate::conversation::TranscriptSubmitted,
    },
    /// ElevenLabs' record of a finished call (the `data` of a
    /// `post_call_transcription` webhook, the shape of
    /// `GET /v1/convai/conversations/{id}`): becomes `cost_reported` and
    /// `analysis_reported`, each only if the conversation has none yet.
    ElevenLabsRecord { details: serde_json::Value },
    /// ElevenLabs could not start the call (`call_initiation_failure`):
    /// `conversation.failed` (refused) if the conversation is not over yet.
    InitiationFailed { reason: String },
}

/// The outcome of [`RecordConversation`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub conversation_id: ConversationId,
    /// Whose conversation it is (from its first event), when it has events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    pub outcome: RecordOutcome,
    /// The types of the events appended now (empty for a repeat).
    #[serde(default)]
    pub appended: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    /// Something was appended.
    Recorded,
    /// The log already held all of it; nothing was appended.
    AlreadyRecorded,
    /// The conversation has no events (only a transcript may open one).
    UnknownConversation,
}

/// `cmd.ledger.grant_expiring`: give a user credits that expire, unless
/// spent, at `expires_at` (credits expiring soonest are spent first).
/// Replies with the [`Balance`]; `grant_id` makes a retry harmless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrantExpiringCredits {
    pub grant_id: EventId,
    pub user_id: UserId,
    pub credits: Credits,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `cmd.ledger.correct`: a manual correction of a user's credits, either
/// sign, with why and by whom. Replies with the [`Balance`];
/// `correction_id` makes a retry harmless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrectCredits {
    pub correction_id: EventId,
    pub user_id: UserId,
    /// Positive: credits to the user; negative: taken from them.
    pub credits: Credits,
    pub reason: String,
    /// Who made the correction (a finance user's name or id).
    pub actor: String,
}

/// `cmd.ledger.reconcile`: the reconciliation report of the conversations
/// whose first ledger event falls in `[from, to)` (all when absent). The
/// reply is the report as JSON (`conversations`, `trial_balance`, ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reconcile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refusal_is_an_error_object_and_success_is_the_body() {
        let refused: Reply<Balance> = Err(Refusal::new(
            RefusalCode::InsufficientCredits,
            "balance 0 < 400",
        ))
        .into();
        assert_eq!(
            serde_json::to_value(&refused).expect("json"),
            json!({"error": {"code": "insufficient_credits", "message": "balance 0 < 400"}})
        );
        let done: Reply<Balance> =
            serde_json::from_value(json!({"available": 10, "held": 5})).expect("reply");
        assert_eq!(
            done.into_result(),
            Ok(Balance {
                available: Credits::new(10),
                held: Credits::new(5)
            })
        );
        let back: Reply<Balance> =
            serde_json::from_value(json!({"error": {"code": "busy", "message": "x"}}))
                .expect("reply");
        assert_eq!(
            back.into_result().map_err(|r| r.code),
            Err(RefusalCode::Busy)
        );
    }
}
