//! NextAuth.js v4 session tokens: the JWE NextAuth issues by default
//! (compact, `alg: dir`, `enc: A256GCM`), decrypted with the key NextAuth
//! derives from `NEXTAUTH_SECRET`:
//! `hkdf("sha256", secret, "", "NextAuth.js Generated Encryption Key", 32)`
//! (next-auth v4, `packages/next-auth/src/jwt/index.ts`).
//!
//! Why RustCrypto's `aes-gcm` and `hkdf` rather than a JOSE crate: the only
//! JWE form needed is the one above, which is a header check and one AEAD
//! open (RFC 7516 §5.2 with `dir`). `josekit` would bring OpenSSL, a system
//! library nothing else in Parlor links (the rest is rustls/ring); `biscuit`
//! is barely maintained and carries a second JWT stack beside
//! `jsonwebtoken`. The primitives are the audited, widely used ones.

use std::fmt;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hkdf::Hkdf;
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::jwt::{Claims, EXTERNAL_LEEWAY, TokenError, parse_claims, unix_now};

/// HKDF `info` for session tokens (NextAuth's default, empty salt).
const KEY_INFO: &[u8] = b"NextAuth.js Generated Encryption Key";
const IV_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("NEXTAUTH_SECRET must not be empty")]
pub struct EmptySecret;

#[derive(Deserialize)]
struct ProtectedHeader {
    alg: String,
    enc: String,
    /// NextAuth never compresses; a `zip` token is not one of its.
    zip: Option<serde_json::Value>,
}

/// The A256GCM key NextAuth derives from its secret; `Debug` shows nothing.
#[derive(Clone)]
pub struct NextAuthKey {
    cipher: Aes256Gcm,
}

impl NextAuthKey {
    /// The key for `NEXTAUTH_SECRET` (its bytes, as NextAuth takes the string).
    pub fn derive(secret: &[u8]) -> Result<Self, EmptySecret> {
        if secret.is_empty() {
            return Err(EmptySecret);
        }
        Ok(Self {
            cipher: Aes256Gcm::new(&derive_key(secret)),
        })
    }

    /// Decrypts a session token and checks its claims (`exp` with NextAuth's
    /// own 15 s tolerance).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_at(token, unix_now())
    }

    fn verify_at(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let payload = self.decrypt(token)?;
        let value: serde_json::Value =
            serde_json::from_slice(&payload).map_err(|_| TokenError::NextAuthShape("payload"))?;
        let claims = parse_claims(value)?;
        if claims.exp.saturating_add(EXTERNAL_LEEWAY.as_secs()) <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// RFC 7516 §5.2 for `dir` + `A256GCM`: the AAD is the protected header
    /// as sent (its base64url text).
    fn decrypt(&self, token: &str) -> Result<Vec<u8>, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(encrypted_key), Some(iv), Some(ciphertext), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        let protected: ProtectedHeader = B64
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::NextAuthShape("header"))?;
        if protected.alg != "dir" || protected.enc != "A256GCM" || protected.zip.is_some() {
            return Err(TokenError::NextAuthShape("not alg dir, enc A256GCM"));
        }
        if !encrypted_key.is_empty() {
            return Err(TokenError::NextAuthShape("`dir` carries no encrypted key"));
        }
        let iv = decode_len(iv, IV_BYTES).ok_or(TokenError::NextAuthShape("iv"))?;
        let tag = decode_len(tag, TAG_BYTES).ok_or(TokenError::NextAuthShape("tag"))?;
        let mut sealed = B64
            .decode(ciphertext)
            .map_err(|_| TokenError::NextAuthShape("ciphertext"))?;
        sealed.extend_from_slice(&tag);
        self.cipher
            .decrypt(
                Nonce::from_slice(&iv),
                Payload {
                    msg: &sealed,
                    aad: header.as_bytes(),
                },
            )
            .map_err(|_| TokenError::Decrypt)
    }
}

fn derive_key(secret: &[u8]) -> Key<Aes256Gcm> {
    let mut key = Key::<Aes256Gcm>::default();
    // An empty salt is HKDF's all-zero salt (RFC 5869 §2.2), as @panva/hkdf.
    Hkdf::<Sha256>::new(None, secret)
        .expand(KEY_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

fn decode_len(part: &str, len: usize) -> Option<Vec<u8>> {
    B64.decode(part).ok().filter(|bytes| bytes.len() == len)
}

impl fmt::Debug for NextAuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NextAuthKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use aes_gcm::AeadCore;

    const SECRET: &[u8] = b"the NEXTAUTH_SECRET of the seed app";
    const USER: &str = "65a1b2c3d4e5f60718293a4b";
    const NOW: u64 = 1_800_000_000;

    /// A session token sealed as NextAuth's `encode` seals it (jose's
    /// `EncryptJWT`, `dir` + `A256GCM`), done here step by step.
    fn seal(secret: &[u8], header: &str, claims: &str) -> String {
        let cipher = Aes256Gcm::new(&derive_key(secret));
        let iv = Aes256Gcm::generate_nonce(&mut rand::rngs::OsRng);
        let header = B64.encode(header);
        let mut sealed = cipher
            .encrypt(
                &iv,
                Payload {
                    msg: claims.as_bytes(),
                    aad: header.as_bytes(),
                },
            )
            .expect("seal");
        let tag = sealed.split_off(sealed.len() - TAG_BYTES);
        format!(
            "{header}..{}.{}.{}",
            B64.encode(iv),
            B64.encode(sealed),
            B64.encode(tag)
        )
    }

    fn session(role: Option<&str>, exp: u64) -> String {
        let role = role
            .map(|r| format!(r#","role":"{r}""#))
            .unwrap_or_default();
        format!(
            r#"{{"name":"Ada","email":"ada@example.com","sub":"{USER}"{role},"iat":{},"exp":{exp},"jti":"0b9f2c8e-5d1a-4c3e-9f7a-2b6d8e1f4a3c"}}"#,
            exp - 60
        )
    }

    const HEADER: &str = r#"{"alg":"dir","enc":"A256GCM"}"#;

    fn key() -> NextAuthKey {
        NextAuthKey::derive(SECRET).expect("key")
    }

    #[test]
    fn the_key_is_nextauths_hkdf() {
        // Computed with Node: `await hkdf("sha256", "the NEXTAUTH_SECRET of
        // the seed app", "", "NextAuth.js Generated Encryption Key", 32)`
        // using @panva/hkdf 1.2.1 (next-auth v4's dependency).
        assert_eq!(
            hex::encode(derive_key(SECRET)),
            include_str!("../../tests/fixtures/nextauth-key.hex").trim()
        );
    }

    #[test]
    fn a_session_token_decrypts_to_its_user_and_role() {
        let token = seal(SECRET, HEADER, &session(None, NOW + 3600));
        let claims = key().verify_at(&token, NOW).expect("verifies");
        assert_eq!(claims.sub.to_string(), USER);
        assert_eq!(claims.role, Role::User);
        let admin = seal(SECRET, HEADER, &session(Some("admin"), NOW + 3600));
        assert_eq!(
            key().verify_at(&admin, NOW).map(|c| c.role),
            Ok(Role::Admin)
        );
    }

    #[test]
    fn tokens_made_by_next_auth_itself_decrypt_and_expire() {
        // Made by next-auth 4.24's own `encode` (tests/fixtures/make-nextauth.js).
        let token = include_str!("../../tests/fixtures/nextauth-session.jwe").trim();
        let claims = key().verify(token).expect("next-auth's token");
        assert_eq!(claims.sub.to_string(), USER);
        assert_eq!(claims.role, Role::Finance);
        let expired = include_str!("../../tests/fixtures/nextauth-expired.jwe").trim();
        assert_eq!(key().verify(expired), Err(TokenError::Expired));
    }

    #[test]
    fn expiry_allows_nextauths_fifteen_seconds() {
        let token = seal(SECRET, HEADER, &session(None, NOW - 10));
        assert!(key().verify_at(&token, NOW).is_ok());
        let token = seal(SECRET, HEADER, &session(None, NOW - 15));
        assert_eq!(key().verify_at(&token, NOW), Err(TokenError::Expired));
    }

    #[test]
    fn tampering_or_another_secret_fails_to_decrypt() {
        let token = seal(SECRET, HEADER, &session(None, NOW + 3600));
        let other = NextAuthKey::derive(b"another secret").expect("key");
        assert_eq!(other.verify_at(&token, NOW), Err(TokenError::Decrypt));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut ciphertext = B64.decode(&parts[3]).expect("b64");
        ciphertext[0] ^= 1;
        parts[3] = B64.encode(ciphertext);
        assert_eq!(
            key().verify_at(&parts.join("."), NOW),
            Err(TokenError::Decrypt)
        );
        // The header is authenticated too (it is the AAD).
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[0] = B64.encode(r#"{"enc":"A256GCM","alg":"dir"}"#);
        assert_eq!(
            key().verify_at(&parts.join("."), NOW),
            Err(TokenError::Decrypt)
        );
    }

    #[test]
    fn other_jwe_forms_and_claims_are_refused() {
        let a128 = seal(
            SECRET,
            r#"{"alg":"dir","enc":"A128GCM"}"#,
            &session(None, NOW + 60),
        );
        assert_eq!(
            key().verify_at(&a128, NOW),
            Err(TokenError::NextAuthShape("not alg dir, enc A256GCM"))
        );
        let not_a_user = seal(
            SECRET,
            HEADER,
            &session(None, NOW + 60).replace(USER, "google-oauth2|1234"),
        );
        assert_eq!(
            key().verify_at(&not_a_user, NOW),
            Err(TokenError::Claims("`sub` must be a 24-hex user id".into()))
        );
        for bad in ["a.b.c.d.e", "....", "a.b.c.d.e.f"] {
            assert!(key().verify_at(bad, NOW).is_err(), "{bad}");
        }
        assert_eq!(NextAuthKey::derive(b"").map(|_| ()), Err(EmptySecret));
    }
}
