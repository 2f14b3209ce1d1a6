//! Bearer JWTs (RFC 7519), checked by `jsonwebtoken`: HS256 with Parlor's
//! shared secret (what [`issue_token`] signs), RS256 and ES256 with the
//! configured public keys ([`PublicKeys`]).
//!
//! The header's `alg` picks the kind of key, and each kind is only ever used
//! with its own algorithm: an HS256 token is checked with the shared secret
//! and nothing else, so one "signed" with a public key's bytes fails
//! (algorithm confusion), and `none` or any other algorithm is refused before
//! a key is looked at.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use events::UserId;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::keys::PublicKeys;
use crate::auth::secret::JwtSecret;

/// Longer tokens are refused unread (a Parlor JWT is ~200 bytes, a NextAuth
/// session a few KiB, chunked over cookies past 4 KiB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Clock skew allowed on tokens minted elsewhere (an identity provider,
/// NextAuth), the same 15 s NextAuth allows itself. Parlor's own tokens get
/// none: the gateway copies that sign and check them share a clock source.
pub const EXTERNAL_LEEWAY: Duration = Duration::from_secs(15);

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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    #[error("algorithm `{0}` is not accepted (HS256, RS256 or ES256)")]
    Algorithm(String),
    #[error("signature does not match")]
    Signature,
    #[error("no configured public key for this token (alg {alg}, kid {kid})")]
    UnknownKey { alg: &'static str, kid: String },
    #[error("{0}")]
    Claims(String),
    #[error("expired")]
    Expired,
    #[error("NextAuth session tokens are not accepted: NEXTAUTH_SECRET is not set")]
    NextAuthOff,
    #[error("not a NextAuth session token: {0}")]
    NextAuthShape(&'static str),
    #[error("cannot be decrypted with NEXTAUTH_SECRET")]
    Decrypt,
}

/// The part of the JOSE header read before `jsonwebtoken` is asked, so a
/// refused algorithm is named rather than reported as bad JSON.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
}

/// The claims as sent; [`parse_claims`] turns them into [`Claims`].
#[derive(Deserialize)]
pub(crate) struct WireClaims {
    sub: Option<serde_json::Value>,
    role: Option<serde_json::Value>,
    exp: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: String,
    role: &'a str,
    iat: u64,
    exp: u64,
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

fn encode(secret: &JwtSecret, user_id: UserId, role: Role, iat: u64, exp: u64) -> String {
    let claims = IssuedClaims {
        sub: user_id.to_string(),
        role: role.as_str(),
        iat,
        exp,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        secret.encoding_key(),
    )
    .expect("HS256 over serializable claims cannot fail")
}

/// Checks a signed JWT (three parts): algorithm, signature, expiry, claims.
pub fn verify_jws(
    secret: &JwtSecret,
    public: &PublicKeys,
    token: &str,
) -> Result<Claims, TokenError> {
    let header = token.split('.').next().ok_or(TokenError::Malformed)?;
    let header: RawHeader = B64
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    let value = match header.alg.as_str() {
        "HS256" => decode(token, secret.decoding_key(), &own_validation())?,
        "RS256" | "ES256" => public.verify(token)?,
        _ => return Err(TokenError::Algorithm(header.alg)),
    };
    parse_claims(value)
}

/// Parlor's own tokens: HS256 only, `exp` required and strictly in the future.
fn own_validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    // `exp == now` is already expired, as it always was for Parlor tokens.
    validation.reject_tokens_expiring_in_less_than = 1;
    validation
}

/// One `jsonwebtoken` check, its errors put in Parlor's words.
pub(crate) fn decode(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
    validation: &Validation,
) -> Result<serde_json::Value, TokenError> {
    jsonwebtoken::decode::<serde_json::Value>(token, key, validation)
        .map(|data| data.claims)
        .map_err(|error| token_error(error.kind()))
}

fn token_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => TokenError::Signature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => {
            TokenError::Claims("`exp` is required, in whole seconds since 1970".into())
        }
        ErrorKind::MissingRequiredClaim(claim) => {
            TokenError::Claims(format!("`{claim}` is required"))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            TokenError::Claims(format!("`{claim}` is not in its standard form"))
        }
        ErrorKind::InvalidAudience => {
            TokenError::Claims("`aud` is not an accepted audience".into())
        }
        ErrorKind::InvalidIssuer => TokenError::Claims("`iss` is not an accepted issuer".into()),
        ErrorKind::ImmatureSignature => TokenError::Claims("not valid yet (`nbf`)".into()),
        ErrorKind::InvalidAlgorithm => TokenError::Algorithm("mismatched".into()),
        _ => TokenError::Malformed,
    }
}

/// `sub` a 24-hex user id, `role` one of Parlor's (default `user`), `exp`
/// whole seconds. The signature and expiry were checked before.
pub(crate) fn parse_claims(value: serde_json::Value) -> Result<Claims, TokenError> {
    let wire: WireClaims = serde_json::from_value(value)
        .map_err(|_| TokenError::Claims("the claims are not a JSON object".into()))?;
    let sub = wire
        .sub
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|sub| sub.parse::<UserId>().ok())
        .ok_or_else(|| TokenError::Claims("`sub` must be a 24-hex user id".into()))?;
    let role = match wire.role {
        None | Some(serde_json::Value::Null) => Role::User,
        Some(role) => serde_json::from_value(role)
            .map_err(|_| TokenError::Claims("`role` must be one of user, finance, admin".into()))?,
    };
    let exp = wire
        .exp
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            TokenError::Claims("`exp` is required, in whole seconds since 1970".into())
        })?;
    Ok(Claims { sub, role, exp })
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
    use hmac::Mac;

    fn secret() -> JwtSecret {
        JwtSecret::new(b"a test secret of at least 32 bytes!!").expect("secret")
    }

    fn user() -> UserId {
        "65a1b2c3d4e5f60718293a4b".parse().expect("user id")
    }

    fn verify(secret: &JwtSecret, token: &str) -> Result<Claims, TokenError> {
        verify_jws(secret, &PublicKeys::default(), token)
    }

    /// An HS256 JWS made here, independently of `jsonwebtoken`.
    fn hs256(key: &[u8], header: &str, claims: &str) -> String {
        let input = format!("{}.{}", B64.encode(header), B64.encode(claims));
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("key");
        mac.update(input.as_bytes());
        format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    const KEY: &[u8] = b"a test secret of at least 32 bytes!!";

    #[test]
    fn an_issued_token_verifies_and_carries_its_claims() {
        let now = unix_now();
        let token = encode(&secret(), user(), Role::Finance, now, now + 60);
        assert_eq!(
            verify(&secret(), &token),
            Ok(Claims {
                sub: user(),
                role: Role::Finance,
                exp: now + 60
            })
        );
    }

    #[test]
    fn a_token_made_by_hand_verifies_and_role_defaults_to_user() {
        let exp = unix_now() + 60;
        let token = hs256(
            KEY,
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(r#"{{"sub":"{}","exp":{exp}}}"#, user()),
        );
        assert_eq!(
            verify(&secret(), &token),
            Ok(Claims {
                sub: user(),
                role: Role::User,
                exp
            })
        );
    }

    #[test]
    fn rfc7515_a1_signature_verifies_then_its_claims_are_refused() {
        // RFC 7515 appendix A.1: a valid HS256 JWS whose claims are not
        // Parlor's (and whose exp is long past).
        let key = B64
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .expect("key");
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let secret = JwtSecret::new(&key).expect("secret");
        assert_eq!(verify(&secret, token), Err(TokenError::Expired));
        let tampered = token.replace("dBjft", "dBjfu");
        assert_eq!(verify(&secret, &tampered), Err(TokenError::Signature));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let now = unix_now();
        let token = encode(&secret(), user(), Role::Admin, now - 120, now - 60);
        assert_eq!(verify(&secret(), &token), Err(TokenError::Expired));
        let at_expiry = encode(&secret(), user(), Role::Admin, now - 60, now);
        assert_eq!(verify(&secret(), &at_expiry), Err(TokenError::Expired));
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let claims = format!(r#"{{"sub":"{}","role":"admin","exp":4102444800}}"#, user());
        let none = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            B64.encode(&claims)
        );
        assert_eq!(
            verify(&secret(), &none),
            Err(TokenError::Algorithm("none".into()))
        );
        let hs512 = hs256(KEY, r#"{"alg":"HS512"}"#, &claims);
        assert_eq!(
            verify(&secret(), &hs512),
            Err(TokenError::Algorithm("HS512".into()))
        );
    }

    #[test]
    fn claims_must_be_parlors() {
        let exp = unix_now() + 60;
        let header = r#"{"alg":"HS256"}"#;
        let cases = [
            (
                format!(r#"{{"sub":"alice","exp":{exp}}}"#),
                "`sub` must be a 24-hex user id",
            ),
            (
                format!(r#"{{"sub":"{}","role":"root","exp":{exp}}}"#, user()),
                "`role` must be one of user, finance, admin",
            ),
            (
                format!(r#"{{"sub":"{}"}}"#, user()),
                "`exp` is required, in whole seconds since 1970",
            ),
            (
                format!(r#"{{"sub":"{}","exp":"soon"}}"#, user()),
                "`exp` is required, in whole seconds since 1970",
            ),
        ];
        for (claims, detail) in cases {
            let token = hs256(KEY, header, &claims);
            assert_eq!(
                verify(&secret(), &token),
                Err(TokenError::Claims(detail.into())),
                "{claims}"
            );
        }
    }

    #[test]
    fn another_key_or_a_changed_payload_breaks_the_signature() {
        let now = unix_now();
        let token = encode(&secret(), user(), Role::User, now, now + 60);
        let other = JwtSecret::new(&[7u8; 32]).expect("secret");
        assert_eq!(verify(&other, &token), Err(TokenError::Signature));
        let forged_claims = B64.encode(format!(
            r#"{{"sub":"{}","role":"admin","exp":{}}}"#,
            user(),
            now + 60
        ));
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &forged_claims;
        assert_eq!(
            verify(&secret(), &parts.join(".")),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for bad in ["", "abc", "a.b", "!!!.???.***", "..", "é.é.é"] {
            assert_eq!(verify(&secret(), bad), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn the_secret_never_prints() {
        assert_eq!(format!("{:?}", secret()), "JwtSecret(<redacted>)");
    }
}
