//! Parlor tokens: compact HS256 JSON Web Tokens (RFC 7519) whose `sub` is
//! the user's 24-hex id. Only HS256 is accepted: `none` and every other
//! algorithm are refused before the signature is even looked at.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use events::UserId;
use hmac::Mac;
use serde::{Deserialize, Serialize};

use crate::auth::secret::JwtSecret;

/// Longer tokens are refused unread (a real one is ~200 bytes).
const MAX_TOKEN_BYTES: usize = 4096;
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees only their own conversations, costs and balance.
    User,
    /// Sees every ledger and the reconciliation, but no one's transcripts.
    Finance,
    /// Sees everything and grants credits.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Finance => "finance",
            Self::Admin => "admin",
        }
    }
}

/// The claims Parlor reads; others are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub role: Role,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("not a JWT")]
    Malformed,
    #[error("algorithm is not HS256")]
    Algorithm,
    #[error("signature does not match")]
    Signature,
    #[error("claims are not Parlor's")]
    Claims,
    #[error("expired")]
    Expired,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Signs a token for `user_id` valid for `ttl` from now.
pub fn issue_token(secret: &JwtSecret, user_id: UserId, role: Role, ttl: Duration) -> String {
    let now = unix_now();
    encode(
        secret,
        user_id,
        role,
        now,
        now.saturating_add(ttl.as_secs()),
    )
}

/// Checks a token's algorithm, signature and expiry, and returns its claims.
pub fn verify_token(secret: &JwtSecret, token: &str) -> Result<Claims, TokenError> {
    verify_at(secret, token, unix_now())
}

fn encode(secret: &JwtSecret, user_id: UserId, role: Role, iat: u64, exp: u64) -> String {
    let claims = format!(
        r#"{{"sub":"{user_id}","role":"{}","iat":{iat},"exp":{exp}}}"#,
        role.as_str()
    );
    let signing_input = format!("{}.{}", B64.encode(HEADER), B64.encode(claims));
    let mut mac = secret.mac();
    mac.update(signing_input.as_bytes());
    let signature = B64.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn verify_at(secret: &JwtSecret, token: &str, now: u64) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (header, payload) = signing_input
        .split_once('.')
        .filter(|(_, payload)| !payload.contains('.'))
        .ok_or(TokenError::Malformed)?;
    let header: Header = decode_json(header)?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm);
    }
    let signature = B64.decode(signature).map_err(|_| TokenError::Signature)?;
    let mut mac = secret.mac();
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::Signature)?;
    let claims: Claims = decode_json(payload).map_err(|_| TokenError::Claims)?;
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, TokenError> {
    let bytes = B64.decode(part).map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::secret::HmacSha256;

    const NOW: u64 = 1_800_000_000;

    fn secret() -> JwtSecret {
        JwtSecret::new(b"a test secret of at least 32 bytes!!").expect("secret")
    }

    fn user() -> UserId {
        "65a1b2c3d4e5f60718293a4b".parse().expect("user id")
    }

    /// The HS256 signature computed here, independently of `encode`.
    fn hs256(key: &[u8], input: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("key");
        mac.update(input.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn an_issued_token_is_the_expected_jwt_and_verifies() {
        let token = encode(&secret(), user(), Role::User, NOW, NOW + 60);
        let header = B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = B64.encode(format!(
            r#"{{"sub":"{}","role":"user","iat":{NOW},"exp":{}}}"#,
            user(),
            NOW + 60
        ));
        let input = format!("{header}.{claims}");
        let expected = format!(
            "{input}.{}",
            hs256(b"a test secret of at least 32 bytes!!", &input)
        );
        assert_eq!(token, expected);
        assert_eq!(
            verify_at(&secret(), &token, NOW),
            Ok(Claims {
                sub: user(),
                role: Role::User,
                exp: NOW + 60
            })
        );
    }

    #[test]
    fn rfc7515_a1_signature_verifies_then_its_claims_are_refused() {
        // RFC 7515 appendix A.1: a valid HS256 JWS whose claims are not Parlor's.
        let key = B64
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .expect("key");
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let secret = JwtSecret::new(&key).expect("secret");
        assert_eq!(verify_at(&secret, token, NOW), Err(TokenError::Claims));
        let tampered = token.replace("dBjft", "dBjfu");
        assert_eq!(
            verify_at(&secret, &tampered, NOW),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn expired_tokens_are_refused() {
        let token = encode(&secret(), user(), Role::Admin, NOW - 120, NOW - 60);
        assert_eq!(verify_at(&secret(), &token, NOW), Err(TokenError::Expired));
        let at_expiry = encode(&secret(), user(), Role::Admin, NOW - 60, NOW);
        assert_eq!(
            verify_at(&secret(), &at_expiry, NOW),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let claims = B64.encode(format!(
            r#"{{"sub":"{}","role":"admin","exp":{}}}"#,
            user(),
            NOW + 60
        ));
        let none = format!("{}.{claims}.", B64.encode(r#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(verify_at(&secret(), &none, NOW), Err(TokenError::Algorithm));
        let input = format!("{}.{claims}", B64.encode(r#"{"alg":"HS512"}"#));
        let hs512 = format!(
            "{input}.{}",
            hs256(b"a test secret of at least 32 bytes!!", &input)
        );
        assert_eq!(
            verify_at(&secret(), &hs512, NOW),
            Err(TokenError::Algorithm)
        );
    }

    #[test]
    fn another_key_or_a_changed_payload_breaks_the_signature() {
        let token = encode(&secret(), user(), Role::User, NOW, NOW + 60);
        let other = JwtSecret::new(&[7u8; 32]).expect("secret");
        assert_eq!(verify_at(&other, &token, NOW), Err(TokenError::Signature));
        let forged_claims = B64.encode(format!(
            r#"{{"sub":"{}","role":"admin","exp":{}}}"#,
            user(),
            NOW + 60
        ));
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &forged_claims;
        assert_eq!(
            verify_at(&secret(), &parts.join("."), NOW),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for bad in ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", "..", "é.é.é"] {
            assert_eq!(
                verify_at(&secret(), bad, NOW),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(verify_at(&secret(), &huge, NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn the_secret_never_prints() {
        assert_eq!(format!("{:?}", secret()), "JwtSecret(<redacted>)");
    }
}
