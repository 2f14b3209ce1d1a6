//! Ids named in a route's path.

use events::{AccountId, UserId};

use crate::error::ApiError;

/// `{userId}`: a 24-hex ObjectId, 400 otherwise.
pub fn user(text: &str) -> Result<UserId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest(format!("userId `{text}` is not a 24-hex ObjectId")))
}

/// `{accountId}`: `user-<24 hex>` or `system-<grants|holds|usage|adjustments>`.
pub fn account(text: &str) -> Result<AccountId, ApiError> {
    text.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "accountId `{text}` is neither user-<24 hex> nor system-<grants|holds|usage|adjustments>"
        ))
    })
}
