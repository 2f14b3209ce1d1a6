//! Asking the ledger a `cmd.ledger.*` command through `libs/bus`, its
//! refusals mapped to 4xx and its silence to 503.

use std::time::Duration;

use bus::RequestError;
use events::command::RefusalCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// How long a balance, grant or correction may take, retries included.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// The reconciliation report reads the whole log, so it gets longer.
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn ask<Req: Serialize, Resp: DeserializeOwned>(
    nats: &async_nats::Client,
    subject: &str,
    body: &Req,
    within: Duration,
) -> Result<Resp, ApiError> {
    bus::request(nats, subject, body, within)
        .await
        .map_err(problem)
}

fn problem(error: RequestError) -> ApiError {
    match error {
        RequestError::Refused { refusal, .. } => match refusal.code {
            RefusalCode::InvalidRequest => ApiError::Unprocessable(refusal.message),
            RefusalCode::InsufficientCredits => ApiError::Conflict(refusal.message),
            RefusalCode::AgentNotFound => ApiError::NotFound("agent"),
            RefusalCode::Busy | RefusalCode::Unavailable => {
                tracing::warn!(message = %refusal.message, "the ledger cannot answer now");
                ApiError::Unavailable("ledger")
            }
        },
        RequestError::NoAnswer { .. } => ApiError::Unavailable("ledger"),
        other => ApiError::internal(other),
    }
}
