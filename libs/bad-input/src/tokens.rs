//! The gateway's bearer tokens, checked as [`TokenKeys::verify`] checks
//! every request: Parlor's HS256 JWTs (three parts) and NextAuth session
//! JWEs (five). The bytes are a token; or, to reach past the signature,
//! claims (optionally a JOSE header, a newline, then the claims) that the
//! target signs or seals with the keys the gateway holds.

use std::sync::OnceLock;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD, URL_SAFE_NO_PAD as B64};
use gateway::auth::{Claims, NextAuthKey, PublicKeys, TokenKeys};
use gateway::{JwtSecret, Role};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Parlor's shared secret in the targets (`JWT_SECRET`).
pub const JWT_SECRET: &[u8] = b"bad-input: the gateway's HS256 secret, 32+ bytes";
/// NextAuth's secret in the targets (`NEXTAUTH_SECRET`).
pub const NEXTAUTH_SECRET: &[u8] = b"bad-input: NEXTAUTH_SECRET";
/// The header NextAuth v4 puts on its session tokens.
pub const NEXTAUTH_HEADER: &str = r#"{"alg":"dir","enc":"A256GCM"}"#;
/// The header Parlor puts on its own tokens.
pub const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;
const NEXTAUTH_KEY_INFO: &[u8] = b"NextAuth.js Generated Encryption Key";
const TAG_BYTES: usize = 16;
/// Base64url that ignores the unused low bits of the last character: a
/// signature that decodes to the true bytes is the true signature.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    NO_PAD.with_decode_allow_trailing_bits(true),
);

/// The gateway's keys: the shared secret, no public keys, NextAuth on.
pub fn keys() -> &'static TokenKeys {
    static KEYS: OnceLock<TokenKeys> = OnceLock::new();
    KEYS.get_or_init(|| TokenKeys {
        secret: JwtSecret::new(JWT_SECRET).expect("a long enough secret"),
        public: PublicKeys::default(),
        nextauth: Some(NextAuthKey::derive(NEXTAUTH_SECRET).expect("a secret")),
    })
}

/// Any token is refused unless it is genuinely HS256-signed with the
/// secret, and then its claims are the ones signed; any claims, signed
/// under any header, never panic the check and verify only as themselves.
pub fn jwt(data: &[u8]) {
    let token = String::from_utf8_lossy(data);
    if let Ok(claims) = keys().verify(&token) {
        let payload = signed_payload(&token)
            .unwrap_or_else(|| panic!("accepted a token not signed with the secret: {token}"));
        assert_claims(&payload, &claims);
    }
    let (header, payload) = header_and_payload(data, JWT_HEADER.as_bytes());
    if let Ok(claims) = keys().verify(&sign(header, payload)) {
        assert_claims(payload, &claims);
    }
}

/// Any token is refused unless it opens with the key NextAuth derives from
/// its secret, and then its claims are the ones sealed; any claims, sealed
/// under any header, never panic the check and verify only as themselves.
pub fn nextauth(data: &[u8]) {
    let key = keys().nextauth.as_ref().expect("NextAuth on");
    let token = String::from_utf8_lossy(data);
    if let Ok(claims) = key.verify(&token) {
        let payload = open(&token)
            .unwrap_or_else(|| panic!("accepted a token not sealed with the key: {token}"));
        assert_claims(&payload, &claims);
    }
    let (header, payload) = header_and_payload(data, NEXTAUTH_HEADER.as_bytes());
    if let Ok(claims) = key.verify(&seal(header, payload)) {
        assert_claims(payload, &claims);
    }
}

/// A compact JWS of `payload` under `header`, HMAC-SHA256 with the secret
/// whatever the header says (so `alg` confusion is tried too).
pub fn sign(header: &[u8], payload: &[u8]) -> String {
    let signing_input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let signature = hs256(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(signature))
}

/// A compact JWE of `payload` under `header`, `dir` + A256GCM with
/// NextAuth's key, as `jose`'s `EncryptJWT` makes it (a fixed IV: these
/// tokens are only ever opened here).
pub fn seal(header: &[u8], payload: &[u8]) -> String {
    let header = B64.encode(header);
    let iv = [7u8; 12];
    let mut sealed = cipher()
        .encrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: payload,
                aad: header.as_bytes(),
            },
        )
        .expect("sealing fits in memory");
    let tag = sealed.split_off(sealed.len() - TAG_BYTES);
    format!(
        "{header}..{}.{}.{}",
        B64.encode(iv),
        B64.encode(sealed),
        B64.encode(tag)
    )
}

fn hs256(signing_input: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(JWT_SECRET).expect("any key length");
    mac.update(signing_input);
    mac.finalize().into_bytes().to_vec()
}

/// The payload of a three-part token whose signature is the true one.
fn signed_payload(token: &str) -> Option<Vec<u8>> {
    let [header, payload, signature] = parts(token)?;
    let expected = hs256(format!("{header}.{payload}").as_bytes());
    (LENIENT_B64.decode(signature).ok()? == expected)
        .then(|| LENIENT_B64.decode(payload).ok())
        .flatten()
}

/// RFC 7516 §5.2 for `dir` + A256GCM, done independently of the gateway.
fn open(token: &str) -> Option<Vec<u8>> {
    let [header, key, iv, ciphertext, tag] = parts(token)?;
    if !key.is_empty() {
        return None;
    }
    let iv = LENIENT_B64.decode(iv).ok().filter(|iv| iv.len() == 12)?;
    let mut sealed = LENIENT_B64.decode(ciphertext).ok()?;
    sealed.extend(LENIENT_B64.decode(tag).ok()?);
    cipher()
        .decrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: &sealed,
                aad: header.as_bytes(),
            },
        )
        .ok()
}

fn parts<const N: usize>(token: &str) -> Option<[&str; N]> {
    let parts: Vec<&str> = token.split('.').collect();
    parts.try_into().ok()
}

fn cipher() -> Aes256Gcm {
    let mut key = Key::<Aes256Gcm>::default();
    Hkdf::<Sha256>::new(None, NEXTAUTH_SECRET)
        .expand(NEXTAUTH_KEY_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    Aes256Gcm::new(&key)
}

/// A header line, then the payload; no newline: the default header.
fn header_and_payload<'a>(data: &'a [u8], default: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (default, data),
    }
}

/// Accepted claims are those of the payload: its `sub`, `exp` and `role`.
fn assert_claims(payload: &[u8], claims: &Claims) {
    let value: Value = serde_json::from_slice(payload).expect("accepted claims are JSON");
    assert_eq!(
        value["sub"].as_str().and_then(|sub| sub.parse().ok()),
        Some(claims.sub),
        "sub of {value}"
    );
    assert_eq!(value["exp"].as_u64(), Some(claims.exp), "exp of {value}");
    let role = match &value["role"] {
        Value::Null => Some(Role::User),
        role => serde_json::from_value(role.clone()).ok(),
    };
    assert_eq!(role, Some(claims.role), "role of {value}");
}
