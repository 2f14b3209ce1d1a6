//! Every error this crate returns, one enum per operation.

use std::time::Duration;

use crate::close::ConversationEnd;

/// A message that could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("`{message_type}` body is malformed: {source}")]
    Body {
        message_type: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Bad configuration (a base URL that cannot serve its purpose).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid URL {url:?}: {source}")]
    InvalidUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("unsupported URL scheme {scheme:?}")]
    UnsupportedScheme { scheme: String },
}

/// Opening a conversation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("invalid xi-api-key header value")]
    InvalidApiKey,
    /// The upgrade was answered with an HTTP status instead of 101.
    #[error("handshake refused with HTTP {status}")]
    Refused { status: u16, body: String },
    /// `convai` was requested and the server did not echo it (or echoed
    /// something else): the handshake is rejected, as a browser would.
    #[error("subprotocol mismatch: {0}")]
    Subprotocol(String),
    #[error("TLS setup failed: {0}")]
    Tls(#[source] rustls::Error),
    #[error("WebSocket connection failed: {0}")]
    Transport(#[source] Box<tokio_tungstenite::tungstenite::Error>),
    /// The server closed before sending `conversation_initiation_metadata`.
    #[error("closed before the initiation metadata: {0:?}")]
    ClosedBeforeMetadata(Box<ConversationEnd>),
    #[error("connection lost before the initiation metadata")]
    LostBeforeMetadata,
    #[error("first server message was not the initiation metadata: {0}")]
    UnexpectedFirstMessage(String),
    #[error("no initiation metadata within {0:?}")]
    MetadataTimeout(Duration),
}

/// A live conversation broke without a closing handshake.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    /// The socket dropped (reset, EOF) without a close frame.
    #[error("connection lost without a close frame: {0}")]
    ConnectionLost(String),
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
    /// The connection task ended abnormally (it panicked or was aborted).
    #[error("connection task ended abnormally")]
    TaskFailed,
}

/// A client message could not be queued: the conversation is over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the conversation is closed")]
pub struct SendError;

/// One entry of a 422 body: `{"loc":[…],"msg":"…","type":"…"}`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ValidationIssue {
    #[serde(default)]
    pub loc: Vec<serde_json::Value>,
    #[serde(default)]
    pub msg: String,
    #[serde(default, rename = "type")]
    pub kind: String,
}

/// A REST call failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// 401 (`invalid_api_key`, or any other 401 status string).
    #[error("unauthorized ({status}): {message}")]
    Unauthorized { status: String, message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    /// 422 with the validation issues of the body.
    #[error("validation failed: {issues:?}")]
    Validation { issues: Vec<ValidationIssue> },
    /// 429 after the retry policy was exhausted, or with a `Retry-After`
    /// longer than the policy will wait.
    #[error("rate limited ({status}) after {attempts} attempt(s)")]
    RateLimited {
        status: String,
        retry_after: Option<Duration>,
        attempts: u32,
    },
    /// Any other non-success status, with `detail.status` if the body had one.
    #[error("HTTP {http_status} ({status}): {message}")]
    Api {
        http_status: u16,
        status: String,
        message: String,
    },
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected response body: {0}")]
    Decode(#[source] serde_json::Error),
    #[error("the signed URL in the response is not a URL: {0}")]
    BadSignedUrl(String),
    /// The record was still not `done`/`failed` at the deadline.
    #[error("conversation {conversation_id} still `{status}` at the deadline")]
    NotFinished {
        conversation_id: String,
        status: String,
    },
}

/// A webhook request failed verification (§3).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("Missing signature header")]
    MissingHeader,
    #[error("malformed signature header: {0}")]
    MalformedHeader(&'static str),
    #[error("Timestamp outside the tolerance zone: {timestamp} is {age_secs} s old")]
    Expired { timestamp: i64, age_secs: i64 },
    #[error("Timestamp outside the tolerance zone: {timestamp} is {ahead_secs} s ahead")]
    FromTheFuture { timestamp: i64, ahead_secs: i64 },
    #[error("Signature hash does not match the expected signature hash for payload")]
    BadSignature,
    #[error("webhook body is not a valid event: {0}")]
    InvalidPayload(#[source] serde_json::Error),
}
