//! `JwtSecret`: the key behind Parlor tokens and conversation signatures.
//! It holds only keyed states (HMAC, `jsonwebtoken`'s keys) and never prints.

use std::fmt;

use hmac::{Hmac, Mac};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::Sha256;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// HS256 wants at least as many key bytes as the hash has (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

const ENV_VAR: &str = "PARLOR_JWT_SECRET";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("{ENV_VAR} is not set")]
    Missing,
    #[error("{ENV_VAR} must be at least {MIN_SECRET_BYTES} bytes long")]
    TooShort,
}

/// The signing key; `Debug` shows nothing of it.
#[derive(Clone)]
pub struct JwtSecret {
    mac: HmacSha256,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtSecret {
    pub fn new(bytes: &[u8]) -> Result<Self, SecretError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort);
        }
        Ok(Self::keyed(bytes))
    }

    fn keyed(bytes: &[u8]) -> Self {
        Self {
            mac: <HmacSha256 as Mac>::new_from_slice(bytes)
                .expect("HMAC accepts keys of any length"),
            encoding: EncodingKey::from_secret(bytes)
                .expect("a secret of MIN_SECRET_BYTES is not empty"),
            decoding: DecodingKey::from_secret(bytes)
                .expect("a secret of MIN_SECRET_BYTES is not empty"),
        }
    }

    /// A fresh random key: for one machine only, since other copies of the
    /// gateway would not accept the tokens it signs.
    pub fn random() -> Self {
        Self::keyed(&rand::random::<[u8; MIN_SECRET_BYTES]>())
    }

    /// `PARLOR_JWT_SECRET`.
    pub fn from_env() -> Result<Self, SecretError> {
        match std::env::var(ENV_VAR) {
            Ok(value) if !value.is_empty() => Self::new(value.as_bytes()),
            _ => Err(SecretError::Missing),
        }
    }

    /// `PARLOR_JWT_SECRET` when set, else a random key (`parlor up`, one machine).
    pub fn from_env_or_random() -> Result<Self, SecretError> {
        match Self::from_env() {
            Err(SecretError::Missing) => Ok(Self::random()),
            other => other,
        }
    }

    /// A fresh HMAC-SHA256 keyed with the secret.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// A key for another purpose, so a signature made for one use can never
    /// pass as another (a conversation signature is not a token).
    pub(crate) fn derive(&self, purpose: &str) -> Self {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        Self::keyed(&mac.finalize().into_bytes())
    }

    /// Signs HS256 tokens.
    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// Checks HS256 tokens.
    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}
