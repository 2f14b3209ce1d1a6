//! `PublicKeys`: the RS256 and ES256 keys that tokens from an identity
//! provider are checked with, loaded once at start from PEM files
//! (`PARLOR_JWT_PUBLIC_KEYS`) and a JWKS file (`PARLOR_JWKS_FILE`).
//!
//! A token's `kid` picks its JWKS key; PEM keys have no id and are tried in
//! turn. Each key is bound to one algorithm when loaded (RSA → RS256, EC
//! P-256 → ES256), so a token can only be checked the way its key was meant.

use std::fmt;
use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::auth::jwt::{EXTERNAL_LEEWAY, TokenError, decode};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}", path = path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a PEM RSA or EC public key", path = path.display())]
    Pem { path: PathBuf },
    #[error("{path} is not a JWKS document ({{\"keys\": [...]}}): {source}", path = path.display())]
    Jwks {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} holds no RS256 or ES256 signing key", path = path.display())]
    NoUsableKey { path: PathBuf },
}

/// One public key, bound to the algorithm it checks.
#[derive(Clone)]
struct PublicKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// Every configured public key, and what tokens checked with them must say.
#[derive(Clone, Default)]
pub struct PublicKeys {
    keys: Vec<PublicKey>,
    /// `PARLOR_JWT_AUDIENCE`: accepted `aud` values. Unset, a token that
    /// names an audience is refused (it was meant for someone else).
    audience: Vec<String>,
    /// `PARLOR_JWT_ISSUER`: accepted `iss` values; unset, any.
    issuer: Vec<String>,
}

impl PublicKeys {
    /// Adds the key in a PEM file (`-----BEGIN PUBLIC KEY-----`, RSA or EC).
    pub fn add_pem_file(&mut self, path: &Path) -> Result<(), KeyError> {
        let pem = read(path)?;
        let (alg, key) = if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
            (Algorithm::RS256, key)
        } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
            (Algorithm::ES256, key)
        } else {
            return Err(KeyError::Pem { path: path.into() });
        };
        self.keys.push(PublicKey {
            kid: None,
            alg,
            key,
        });
        Ok(())
    }

    /// Adds the signing keys of a JWKS file. Keys for encryption, for other
    /// algorithms or curves are skipped; a file with none left is an error.
    pub fn add_jwks_file(&mut self, path: &Path) -> Result<(), KeyError> {
        let json = read(path)?;
        let set: JwkSet = serde_json::from_slice(&json).map_err(|source| KeyError::Jwks {
            path: path.into(),
            source,
        })?;
        let before = self.keys.len();
        for jwk in &set.keys {
            if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
                continue;
            }
            let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
                (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                    if ec.curve == EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                _ => continue,
            };
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            self.keys.push(PublicKey {
                kid: jwk.common.key_id.clone(),
                alg,
                key,
            });
        }
        if self.keys.len() == before {
            return Err(KeyError::NoUsableKey { path: path.into() });
        }
        Ok(())
    }

    pub fn set_audience(&mut self, audience: Vec<String>) {
        self.audience = audience;
    }

    pub fn set_issuer(&mut self, issuer: Vec<String>) {
        self.issuer = issuer;
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks an RS256 or ES256 token with the key its header names.
    pub(crate) fn verify(&self, token: &str) -> Result<serde_json::Value, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let alg = header.alg;
        let of_alg = || self.keys.iter().filter(move |key| key.alg == alg);
        let by_kid: Vec<&PublicKey> = match &header.kid {
            Some(kid) => of_alg()
                .filter(|key| key.kid.as_deref() == Some(kid))
                .collect(),
            None => Vec::new(),
        };
        let candidates = if by_kid.is_empty() {
            of_alg()
                .filter(|key| key.kid.is_none() || header.kid.is_none())
                .collect()
        } else {
            by_kid
        };
        if candidates.is_empty() {
            return Err(TokenError::UnknownKey {
                alg: if alg == Algorithm::RS256 {
                    "RS256"
                } else {
                    "ES256"
                },
                kid: header.kid.unwrap_or_else(|| "none".into()),
            });
        }
        let validation = self.validation(alg);
        let mut last = TokenError::Signature;
        for candidate in candidates {
            match decode(token, &candidate.key, &validation) {
                Err(TokenError::Signature) => last = TokenError::Signature,
                other => return other,
            }
        }
        Err(last)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = EXTERNAL_LEEWAY.as_secs();
        validation.validate_nbf = true;
        if !self.audience.is_empty() {
            validation.set_audience(&self.audience);
            validation.set_required_spec_claims(&["exp", "aud"]);
        }
        if !self.issuer.is_empty() {
            validation.set_issuer(&self.issuer);
        }
        validation
    }
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })
}

impl fmt::Debug for PublicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("{:?}/{}", key.alg, key.kid.as_deref().unwrap_or("-")))
            .collect();
        f.debug_struct("PublicKeys")
            .field("keys", &keys)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::{Claims, verify_jws};
    use crate::auth::{JwtSecret, Role};
    use jsonwebtoken::{EncodingKey, Header};

    const USER: &str = "65a1b2c3d4e5f60718293a4b";

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn pem_keys() -> PublicKeys {
        let mut keys = PublicKeys::default();
        keys.add_pem_file(&fixture("rsa-public.pem")).expect("rsa");
        keys.add_pem_file(&fixture("ec-public.pem")).expect("ec");
        keys
    }

    fn jwks_keys() -> PublicKeys {
        let mut keys = PublicKeys::default();
        keys.add_jwks_file(&fixture("jwks.json")).expect("jwks");
        keys
    }

    fn claims(extra: &str) -> serde_json::Value {
        let exp = crate::auth::jwt::unix_now() + 600;
        serde_json::from_str(&format!(
            r#"{{"sub":"{USER}","role":"admin","exp":{exp}{extra}}}"#
        ))
        .expect("json")
    }

    fn sign(
        alg: Algorithm,
        kid: Option<&str>,
        private: &str,
        claims: &serde_json::Value,
    ) -> String {
        let pem = std::fs::read(fixture(private)).expect("private key");
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
            _ => EncodingKey::from_ec_pem(&pem),
        }
        .expect("encoding key");
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    fn verify(keys: &PublicKeys, token: &str) -> Result<Claims, TokenError> {
        verify_jws(&JwtSecret::random(), keys, token)
    }

    #[test]
    fn rs256_and_es256_verify_with_pem_keys() {
        for (alg, private) in [
            (Algorithm::RS256, "rsa-private.pem"),
            (Algorithm::ES256, "ec-private.pem"),
        ] {
            let token = sign(alg, None, private, &claims(""));
            let checked = verify(&pem_keys(), &token).expect("verifies");
            assert_eq!(
                (checked.sub.to_string().as_str(), checked.role),
                (USER, Role::Admin)
            );
            assert_eq!(
                verify(&PublicKeys::default(), &token),
                Err(TokenError::UnknownKey {
                    alg: if alg == Algorithm::RS256 {
                        "RS256"
                    } else {
                        "ES256"
                    },
                    kid: "none".into()
                })
            );
        }
    }

    #[test]
    fn the_kid_picks_the_jwks_key_and_encryption_or_foreign_keys_are_skipped() {
        let keys = jwks_keys();
        assert_eq!(keys.keys.len(), 2, "{keys:?}");
        let rs = sign(
            Algorithm::RS256,
            Some("rsa-1"),
            "rsa-private.pem",
            &claims(""),
        );
        assert!(verify(&keys, &rs).is_ok());
        let es = sign(
            Algorithm::ES256,
            Some("ec-1"),
            "ec-private.pem",
            &claims(""),
        );
        assert!(verify(&keys, &es).is_ok());
        let unknown = sign(
            Algorithm::RS256,
            Some("rsa-9"),
            "rsa-private.pem",
            &claims(""),
        );
        assert_eq!(
            verify(&keys, &unknown),
            Err(TokenError::UnknownKey {
                alg: "RS256",
                kid: "rsa-9".into()
            })
        );
        // The encryption-only key has the same modulus; it is not offered.
        let enc = sign(
            Algorithm::RS256,
            Some("rsa-enc"),
            "rsa-private.pem",
            &claims(""),
        );
        assert!(matches!(
            verify(&keys, &enc),
            Err(TokenError::UnknownKey { .. })
        ));
    }

    #[test]
    fn an_hs256_token_keyed_with_a_public_key_fails() {
        // Algorithm confusion: the attacker HMACs with the public key's PEM
        // bytes, hoping the server uses them as an HMAC secret.
        let public = std::fs::read(fixture("rsa-public.pem")).expect("pem");
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(""),
            &EncodingKey::from_secret(&public).expect("key"),
        )
        .expect("sign");
        assert_eq!(verify(&pem_keys(), &forged), Err(TokenError::Signature));
        assert_eq!(verify(&jwks_keys(), &forged), Err(TokenError::Signature));
    }

    #[test]
    fn another_keys_signature_audience_and_expiry_are_refused() {
        let mut keys = PublicKeys::default();
        keys.add_pem_file(&fixture("rsa-public.pem")).expect("rsa");
        let by_ec = sign(Algorithm::ES256, None, "ec-private.pem", &claims(""));
        assert!(matches!(
            verify(&keys, &by_ec),
            Err(TokenError::UnknownKey { .. })
        ));
        let mut tampered = sign(Algorithm::RS256, None, "rsa-private.pem", &claims(""));
        // One signature character changed (not the last, whose low bits are padding).
        let at = tampered.len() - 10;
        let swapped = if &tampered[at..=at] == "A" { "B" } else { "A" };
        tampered.replace_range(at..=at, swapped);
        assert_eq!(verify(&keys, &tampered), Err(TokenError::Signature));
        let for_others = sign(
            Algorithm::RS256,
            None,
            "rsa-private.pem",
            &claims(r#","aud":"bank""#),
        );
        assert_eq!(
            verify(&keys, &for_others),
            Err(TokenError::Claims(
                "`aud` is not an accepted audience".into()
            ))
        );
        keys.set_audience(vec!["parlor".into()]);
        let for_us = sign(
            Algorithm::RS256,
            None,
            "rsa-private.pem",
            &claims(r#","aud":"parlor""#),
        );
        assert!(verify(&keys, &for_us).is_ok());
        let no_aud = sign(Algorithm::RS256, None, "rsa-private.pem", &claims(""));
        assert_eq!(
            verify(&keys, &no_aud),
            Err(TokenError::Claims("`aud` is required".into()))
        );
        let long_ago: serde_json::Value =
            serde_json::from_str(&format!(r#"{{"sub":"{USER}","exp":1000,"aud":"parlor"}}"#))
                .expect("json");
        let expired = sign(Algorithm::RS256, None, "rsa-private.pem", &long_ago);
        assert_eq!(verify(&keys, &expired), Err(TokenError::Expired));
    }

    #[test]
    fn bad_key_files_are_named() {
        let mut keys = PublicKeys::default();
        let missing = keys
            .add_pem_file(&fixture("absent.pem"))
            .expect_err("absent");
        assert!(missing.to_string().contains("absent.pem"), "{missing}");
        let not_pem = keys
            .add_pem_file(&fixture("jwks.json"))
            .expect_err("not pem");
        assert!(matches!(not_pem, KeyError::Pem { .. }));
        let not_jwks = keys
            .add_jwks_file(&fixture("rsa-public.pem"))
            .expect_err("not jwks");
        assert!(matches!(not_jwks, KeyError::Jwks { .. }));
    }
}
