//! Conversation signatures: the `conversation_signature` of a signed URL.
//!
//! Stateless and HMAC-signed, bound to one user and one agent, valid for
//! [`SIGNATURE_TTL`]. Single use is enforced by [`Redemptions`] in NATS KV,
//! so it holds across every gateway copy.
//!
//! [`Redemptions`]: crate::auth::redeemed::Redemptions
//!
//! Text form (URL-safe, no escaping needed):
//! `<expires_unix>.<nonce 32 hex>.<user 24 hex>.<hmac base64url>`, the HMAC
//! covering `<expires>.<nonce>.<user>.<agent_id>`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use events::{AgentId, UserId};
use hmac::Mac;

use crate::auth::jwt::unix_now;
use crate::auth::secret::JwtSecret;

/// ElevenLabs' signed URLs must be used within 15 minutes.
pub const SIGNATURE_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("invalid conversation signature")]
    Invalid,
    #[error("conversation signature expired")]
    Expired,
    #[error("conversation signature already used")]
    AlreadyUsed,
    #[error("cannot check conversation signatures now, try again later")]
    Unavailable,
}

/// A signature whose HMAC and expiry are good, not yet redeemed.
#[derive(Debug)]
pub struct Verified {
    pub user_id: UserId,
    /// 32 hex, unique to the signature: what redeeming it records.
    pub(crate) nonce: String,
}

/// Issues and checks conversation signatures.
pub struct Signatures {
    key: JwtSecret,
}

impl Signatures {
    pub fn new(secret: &JwtSecret) -> Self {
        Self {
            key: secret.derive("parlor conversation signature v1"),
        }
    }

    pub fn issue(&self, user_id: UserId, agent_id: &AgentId) -> String {
        let expires = unix_now().saturating_add(SIGNATURE_TTL.as_secs());
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let body = format!("{expires}.{nonce}.{user_id}");
        format!("{body}.{}", self.sign(&body, agent_id))
    }

    /// Checks the HMAC (which binds the agent) and the expiry, without using
    /// the signature up.
    pub fn verify(&self, signature: &str, agent_id: &AgentId) -> Result<Verified, SignatureError> {
        self.verify_at(signature, agent_id, unix_now())
    }

    fn verify_at(
        &self,
        signature: &str,
        agent_id: &AgentId,
        now: u64,
    ) -> Result<Verified, SignatureError> {
        let (body, mac) = signature.rsplit_once('.').ok_or(SignatureError::Invalid)?;
        let mut fields = body.split('.');
        let (Some(expires), Some(nonce), Some(user), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(SignatureError::Invalid);
        };
        let mac = B64.decode(mac).map_err(|_| SignatureError::Invalid)?;
        let mut expected = self.key.mac();
        expected.update(format!("{body}.{agent_id}").as_bytes());
        expected
            .verify_slice(&mac)
            .map_err(|_| SignatureError::Invalid)?;
        let expires: u64 = expires.parse().map_err(|_| SignatureError::Invalid)?;
        if expires <= now {
            return Err(SignatureError::Expired);
        }
        let nonce_is_hex = nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit());
        if !nonce_is_hex {
            return Err(SignatureError::Invalid);
        }
        Ok(Verified {
            user_id: user.parse().map_err(|_| SignatureError::Invalid)?,
            nonce: nonce.to_owned(),
        })
    }

    fn sign(&self, body: &str, agent_id: &AgentId) -> String {
        let mut mac = self.key.mac();
        mac.update(format!("{body}.{agent_id}").as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signatures() -> Signatures {
        Signatures::new(&JwtSecret::new(&[1u8; 32]).expect("secret"))
    }

    fn agent(id: &str) -> AgentId {
        id.parse().expect("agent id")
    }

    fn user() -> UserId {
        "65a1b2c3d4e5f60718293a4b".parse().expect("user id")
    }

    #[test]
    fn a_signature_verifies_for_its_agent_only() {
        let signatures = signatures();
        let signature = signatures.issue(user(), &agent("agent_a"));
        assert_eq!(
            signatures
                .verify(&signature, &agent("agent_b"))
                .map(|v| v.user_id),
            Err(SignatureError::Invalid)
        );
        let verified = signatures
            .verify(&signature, &agent("agent_a"))
            .expect("verifies");
        assert_eq!(verified.user_id, user());
        assert_eq!(verified.nonce, signature.split('.').nth(1).expect("nonce"));
    }

    #[test]
    fn an_expired_or_foreign_signature_is_refused() {
        let signatures = signatures();
        let signature = signatures.issue(user(), &agent("agent_a"));
        let later = unix_now() + SIGNATURE_TTL.as_secs() + 1;
        assert_eq!(
            signatures
                .verify_at(&signature, &agent("agent_a"), later)
                .map(|v| v.user_id),
            Err(SignatureError::Expired)
        );
        let other = Signatures::new(&JwtSecret::new(&[2u8; 32]).expect("secret"));
        assert_eq!(
            other
                .verify(&signature, &agent("agent_a"))
                .map(|v| v.user_id),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn a_token_is_not_a_signature() {
        let secret = JwtSecret::new(&[1u8; 32]).expect("secret");
        let token = crate::auth::issue_token(
            &secret,
            user(),
            crate::auth::Role::User,
            Duration::from_secs(60),
        );
        for bad in [token.as_str(), "", "1.2.3.4", "x.y", "9999999999.n.u.m"] {
            assert_eq!(
                signatures()
                    .verify(bad, &agent("agent_a"))
                    .map(|v| v.user_id),
                Err(SignatureError::Invalid),
                "{bad}"
            );
        }
    }
}
