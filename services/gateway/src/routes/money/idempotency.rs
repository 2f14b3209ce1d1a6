//! The `Idempotency-Key` header of the admin writes. The ledger books a
//! grant or correction once per id, so the id is derived from the key
//! (with the caller and the kind of write): a retried request books
//! nothing new and answers the balance again. A key names one write: the
//! first body it comes with is kept (its SHA-256, in the NATS KV bucket
//! [`BUCKET`] every gateway copy shares, for good, as the ledger keeps the
//! id), and the key with another body is 422, as Stripe answers it.

use std::time::Duration;

use async_nats::jetstream::kv;
use axum::http::HeaderMap;
use events::{EventId, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::kv::{BucketError, Buckets, bucket};

pub const HEADER: &str = "idempotency-key";
pub const MAX_KEY_BYTES: usize = 200;
pub const BUCKET: &str = "parlor_idempotency_keys";
/// Past this NATS counts as down for the write.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(5);

/// The keys admin writes used, each with the body it first came with.
#[derive(Clone)]
pub struct IdempotencyKeys {
    kv: kv::Store,
}

impl IdempotencyKeys {
    pub async fn open(buckets: &Buckets) -> Result<Self, BucketError> {
        let description = "Idempotency-Keys of admin writes, with their first body's SHA-256";
        // No max_age: the ledger dedupes the write's id for good.
        Ok(Self {
            kv: bucket(buckets, BUCKET, description, Duration::ZERO).await?,
        })
    }

    /// Names write `id` with `body`: the first time, or the same body
    /// again, passes; another body under the same key is 422.
    pub async fn claim(&self, id: EventId, body: &impl Serialize) -> Result<(), ApiError> {
        let fingerprint = hex::encode(Sha256::digest(
            serde_json::to_vec(body).map_err(ApiError::internal)?,
        ));
        let key = id.to_string();
        let unavailable = |error: &dyn std::fmt::Display| {
            tracing::warn!(%error, "cannot record an Idempotency-Key");
            ApiError::Unavailable("NATS KV")
        };
        let created = tokio::time::timeout(
            CLAIM_TIMEOUT,
            self.kv.create(&key, fingerprint.clone().into()),
        )
        .await
        .map_err(|e| unavailable(&e))?;
        match created {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == kv::CreateErrorKind::AlreadyExists => {
                let first = tokio::time::timeout(CLAIM_TIMEOUT, self.kv.get(&key))
                    .await
                    .map_err(|e| unavailable(&e))?
                    .map_err(|e| unavailable(&e))?;
                if first.as_deref() == Some(fingerprint.as_bytes()) {
                    Ok(())
                } else {
                    Err(ApiError::Unprocessable(
                        "this Idempotency-Key was used with another body; \
                         a new write needs a new key"
                            .to_owned(),
                    ))
                }
            }
            Err(error) => Err(unavailable(&error)),
        }
    }
}

/// The id of the write `kind` (`grant`, `correction`) that `caller` names with the request's key.
pub fn write_id(headers: &HeaderMap, caller: UserId, kind: &str) -> Result<EventId, ApiError> {
    let key = headers
        .get(HEADER)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "an Idempotency-Key header is required, so a retried write never counts twice"
                    .to_owned(),
            )
        })?
        .to_str()
        .ok()
        .filter(|key| !key.is_empty() && key.len() <= MAX_KEY_BYTES)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_BYTES} visible ASCII characters"
            ))
        })?;
    Ok(derive(caller, kind, key))
}

/// A UUID (version 8, RFC 9562: custom) from the SHA-256 of the parts.
fn derive(caller: UserId, kind: &str, key: &str) -> EventId {
    let mut hash = Sha256::new();
    for part in ["parlor-admin-write", kind, &caller.to_string(), key] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    text.parse()
        .unwrap_or_else(|e| unreachable!("36 hex digits and dashes are a UUID: {e}"))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_same_key_names_the_same_write_and_nothing_else_does() {
        let admin = UserId::new();
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("retry-me"));
        let first = write_id(&headers, admin, "grant").expect("id");
        assert_eq!(write_id(&headers, admin, "grant").expect("id"), first);
        assert_ne!(write_id(&headers, admin, "correction").expect("id"), first);
        assert_ne!(
            write_id(&headers, UserId::new(), "grant").expect("id"),
            first
        );
        assert!(first.to_string().chars().nth(14) == Some('8'), "{first}");
    }

    #[test]
    fn a_missing_or_unusable_key_is_a_bad_request() {
        let admin = UserId::new();
        assert!(write_id(&HeaderMap::new(), admin, "grant").is_err());
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static(""));
        assert!(write_id(&headers, admin, "grant").is_err());
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        headers.insert(HEADER, HeaderValue::from_str(&long).expect("header"));
        assert!(write_id(&headers, admin, "grant").is_err());
    }
}
