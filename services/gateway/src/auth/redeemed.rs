//! `Redemptions`: conversation signatures already used, in the NATS KV bucket
//! [`BUCKET`] every gateway copy shares, so a signature opens one
//! conversation in all. Redeeming is a KV `create` of the signature's nonce:
//! exactly one copy's create succeeds. Entries age out with the bucket's
//! `max_age` of [`SIGNATURE_TTL`], by when the signature itself has expired.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use events::UserId;

use crate::auth::signature::{SIGNATURE_TTL, SignatureError, Verified};
use crate::kv::{BucketError, bucket};

pub const BUCKET: &str = "parlor_signature_nonces";
/// A redemption is on a WebSocket upgrade: past this NATS counts as down.
const REDEEM_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Redemptions {
    kv: kv::Store,
}

impl Redemptions {
    pub async fn open(js: &jetstream::Context) -> Result<Self, BucketError> {
        let description = "conversation signatures already redeemed";
        Ok(Self {
            kv: bucket(js, BUCKET, description, SIGNATURE_TTL).await?,
        })
    }

    /// Uses the signature up; a second redemption, on any copy, is refused.
    pub async fn redeem(&self, verified: Verified) -> Result<UserId, SignatureError> {
        let created = tokio::time::timeout(
            REDEEM_TIMEOUT,
            self.kv
                .create(&verified.nonce, verified.user_id.to_string().into()),
        )
        .await;
        match created {
            Ok(Ok(_)) => Ok(verified.user_id),
            Ok(Err(error)) if error.kind() == kv::CreateErrorKind::AlreadyExists => {
                Err(SignatureError::AlreadyUsed)
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot record a signature's redemption");
                Err(SignatureError::Unavailable)
            }
            Err(_) => {
                tracing::warn!("recording a signature's redemption timed out");
                Err(SignatureError::Unavailable)
            }
        }
    }
}
