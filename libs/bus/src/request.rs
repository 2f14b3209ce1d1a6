//! Asking a service over core NATS request/reply (DESIGN §6).

use std::time::Duration;

use async_nats::{Request, RequestErrorKind};
use bytes::Bytes;
use events::command::{Refusal, Reply};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(25);
const MAX_RETRY_PAUSE: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The service answered with a refusal (a normal reply).
    #[error("{subject} refused ({:?}): {}", .refusal.code, .refusal.message)]
    Refused { subject: String, refusal: Refusal },
    /// No copy of the service answered within the time allowed.
    #[error("nobody answered {subject} within {within:?}")]
    NoAnswer { subject: String, within: Duration },
    /// NATS itself failed (connection closed, publish failed).
    #[error("asking {subject}: {source}")]
    Nats {
        subject: String,
        #[source]
        source: async_nats::RequestError,
    },
    #[error("encoding the request for {subject}: {source}")]
    Encode {
        subject: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("unreadable reply from {subject}: {source}")]
    BadReply {
        subject: String,
        #[source]
        source: serde_json::Error,
    },
}

impl RequestError {
    /// The refusal, when the service refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused { refusal, .. } => Some(refusal),
            _ => None,
        }
    }
}

/// Asks `subject` with `body` and returns the reply's body, waiting at most
/// `within` in all. While no copy of the service is subscribed (one is
/// starting or restarting) the request is repeated with a growing pause, so
/// a brief gap is not a failure; commands are idempotent, so asking again
/// is safe.
pub async fn request<Req: Serialize, Resp: DeserializeOwned>(
    client: &async_nats::Client,
    subject: &str,
    body: &Req,
    within: Duration,
) -> Result<Resp, RequestError> {
    let payload: Bytes = serde_json::to_vec(body)
        .map_err(|source| RequestError::Encode {
            subject: subject.to_owned(),
            source,
        })?
        .into();
    let deadline = Instant::now() + within;
    let mut pause = FIRST_RETRY_PAUSE;
    let no_answer = || RequestError::NoAnswer {
        subject: subject.to_owned(),
        within,
    };
    let reply = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(no_answer());
        }
        let asked = client
            .send_request(
                subject.to_owned(),
                Request::new().payload(payload.clone()).timeout(Some(left)),
            )
            .await;
        match asked {
            Ok(reply) => break reply,
            Err(e) if e.kind() == RequestErrorKind::NoResponders => {
                if left <= pause {
                    return Err(no_answer());
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY_PAUSE);
            }
            Err(e) if e.kind() == RequestErrorKind::TimedOut => return Err(no_answer()),
            Err(source) => {
                return Err(RequestError::Nats {
                    subject: subject.to_owned(),
                    source,
                });
            }
        }
    };
    let reply: Reply<Resp> =
        serde_json::from_slice(&reply.payload).map_err(|source| RequestError::BadReply {
            subject: subject.to_owned(),
            source,
        })?;
    reply
        .into_result()
        .map_err(|refusal| RequestError::Refused {
            subject: subject.to_owned(),
            refusal,
        })
}
