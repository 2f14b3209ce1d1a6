//! Who is calling, and how often: bearer tokens (Parlor's HS256 JWTs,
//! RS256/ES256 JWTs of an identity provider, NextAuth session JWEs),
//! conversation signatures, where a request carries them, and the per-caller
//! request rate.
//!
//! # Layout
//!
//! * [`credential`] — where a credential is found (headers, subprotocol,
//!   signature, NextAuth cookie).
//! * [`jwt`] — signed JWTs: Parlor's own and `Claims`, `Role`.
//! * [`keys`] — `PublicKeys` (PEM files, JWKS) for RS256 / ES256.
//! * [`nextauth`] — NextAuth v4 session tokens (`dir` + `A256GCM` JWE).
//! * [`secret`] — `JwtSecret`, the shared secret.
//! * [`signature`] and [`redeemed`] — conversation signatures, single use
//!   across gateway copies.
//! * [`rate`] — per-caller HTTP rate limit.
//! * [`principal`] — `Principal`, the caller of a route and what it sees.

pub mod credential;
pub mod jwt;
pub mod keys;
pub mod nextauth;
pub mod principal;
pub mod rate;
pub mod redeemed;
pub mod secret;
pub mod signature;

use axum::http::HeaderMap;
use events::{AgentId, UserId};

pub use credential::Credential;
pub use jwt::{Claims, Role, TokenError, issue_token};
pub use keys::{KeyError, PublicKeys};
pub use nextauth::NextAuthKey;
pub use principal::Principal;
pub use rate::{HttpRate, RateConfig};
pub use redeemed::Redemptions;
pub use secret::{JwtSecret, SecretError};
pub use signature::{SignatureError, Signatures, Verified};

/// Why a caller was not let in; the text is the close reason or problem detail.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("authentication required")]
    Missing,
    #[error("unsupported Authorization scheme, use Bearer")]
    Scheme,
    #[error("invalid token: {0}")]
    Token(#[from] TokenError),
    #[error("{0}")]
    Signature(#[from] SignatureError),
}

/// A caller whose credential checked out. A signed caller still has to
/// [`admit`](Authenticator::admit) to use the signature up.
#[derive(Debug)]
pub enum Caller {
    Token(Claims),
    Signed(Verified),
}

impl Caller {
    pub fn user_id(&self) -> UserId {
        match self {
            Self::Token(claims) => claims.sub,
            Self::Signed(verified) => verified.user_id,
        }
    }
}

/// The keys every kind of token is checked with.
#[derive(Clone, Debug)]
pub struct TokenKeys {
    pub secret: JwtSecret,
    pub public: PublicKeys,
    /// Set when `NEXTAUTH_SECRET` is; NextAuth tokens are refused otherwise.
    pub nextauth: Option<NextAuthKey>,
}

impl TokenKeys {
    /// Parlor's own tokens only.
    pub fn new(secret: JwtSecret) -> Self {
        Self {
            secret,
            public: PublicKeys::default(),
            nextauth: None,
        }
    }

    /// Checks a bearer token of any accepted kind, told apart by shape: a
    /// signed JWT has three parts, NextAuth's encrypted one five.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > jwt::MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        match token.bytes().filter(|b| *b == b'.').count() {
            2 => jwt::verify_jws(&self.secret, &self.public, token),
            4 => self
                .nextauth
                .as_ref()
                .ok_or(TokenError::NextAuthOff)?
                .verify(token),
            _ => Err(TokenError::Malformed),
        }
    }
}

/// Checks credentials, redeems signatures, and paces callers.
pub struct Authenticator {
    keys: TokenKeys,
    signatures: Signatures,
    redemptions: Redemptions,
    rate: HttpRate,
}

impl Authenticator {
    pub fn new(keys: TokenKeys, redemptions: Redemptions, rate: HttpRate) -> Self {
        Self {
            signatures: Signatures::new(&keys.secret),
            keys,
            redemptions,
            rate,
        }
    }

    /// The user of a token in the headers (signatures are not accepted).
    pub fn token_user(&self, headers: &HeaderMap) -> Result<UserId, AuthError> {
        Ok(self.token_claims(headers)?.sub)
    }

    /// The claims of a token in the headers (signatures are not accepted).
    pub fn token_claims(&self, headers: &HeaderMap) -> Result<Claims, AuthError> {
        let token = credential::find_token(headers)?;
        Ok(self.keys.verify(&token)?)
    }

    /// Checks whatever credential the request carries, without using it up.
    pub fn check(
        &self,
        headers: &HeaderMap,
        signature: Option<&str>,
        agent_id: Option<&AgentId>,
    ) -> Result<Caller, AuthError> {
        match credential::find(headers, signature)? {
            Credential::Token(token) => Ok(Caller::Token(self.keys.verify(&token)?)),
            Credential::Signature(signature) => {
                let agent_id = agent_id.ok_or(SignatureError::Invalid)?;
                Ok(Caller::Signed(self.signatures.verify(signature, agent_id)?))
            }
        }
    }

    /// The caller's user, redeeming a signature (once, across gateway copies).
    pub async fn admit(&self, caller: Caller) -> Result<UserId, AuthError> {
        match caller {
            Caller::Token(claims) => Ok(claims.sub),
            Caller::Signed(verified) => Ok(self.redemptions.redeem(verified).await?),
        }
    }

    /// A `conversation_signature` for this user and agent.
    pub fn sign(&self, user_id: UserId, agent_id: &AgentId) -> String {
        self.signatures.issue(user_id, agent_id)
    }

    pub(crate) fn rate(&self) -> &HttpRate {
        &self.rate
    }
}
