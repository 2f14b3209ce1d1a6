//! What the simulator reports to tests: a broadcast of [`SimEvent`]s and the
//! record statuses tests wait for.

use std::time::Duration;

/// `status` of a conversation record (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationStatus {
    /// The call is live.
    InProgress,
    /// The call ended; analysis is running.
    Processing,
    /// Analysis finished.
    Done,
    /// The call never really started (e.g. a refused override).
    Failed,
}

impl ConversationStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in-progress",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// Something the simulator did.
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// Metadata was sent for a new conversation.
    ConversationStarted {
        /// `conv_…` id.
        conversation_id: String,
        /// The agent.
        agent_id: String,
    },
    /// A `pong` answered one of the simulator's pings.
    PongReceived {
        /// The conversation.
        conversation_id: String,
        /// The ping's `event_id`.
        event_id: u64,
        /// Time from ping sent to pong received.
        rtt: Duration,
    },
    /// The socket closed (or was dropped).
    ConversationEnded {
        /// The conversation.
        conversation_id: String,
        /// Close code sent or received; `None` when the TCP stream just ended.
        close_code: Option<u16>,
        /// `metadata.termination_reason`.
        termination_reason: String,
    },
    /// A record changed status.
    StatusChanged {
        /// The conversation.
        conversation_id: String,
        /// Its new status.
        status: ConversationStatus,
    },
    /// The webhook endpoint answered 2xx.
    WebhookDelivered {
        /// The conversation.
        conversation_id: String,
        /// 1-based attempt that succeeded.
        attempt: u32,
    },
    /// Every attempt failed.
    WebhookFailed {
        /// The conversation.
        conversation_id: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        error: String,
    },
    /// The webhook was withheld by [`crate::Fault::LoseWebhook`].
    WebhookLost {
        /// The conversation.
        conversation_id: String,
    },
}
