//! Who is calling: Parlor tokens (HS256 JWTs), conversation signatures, and
//! where a request carries either.

pub mod credential;
pub mod jwt;
pub mod principal;
pub mod secret;
pub mod signature;

use axum::http::HeaderMap;
use events::{AgentId, UserId};

pub use credential::Credential;
pub use jwt::{Claims, Role, TokenError, issue_token, verify_token};
pub use principal::Principal;
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

/// Checks credentials against one secret.
pub struct Authenticator {
    secret: JwtSecret,
    signatures: Signatures,
}

impl Authenticator {
    pub fn new(secret: JwtSecret) -> Self {
        Self {
            signatures: Signatures::new(&secret),
            secret,
        }
    }

    /// The user of a token in the headers (signatures are not accepted).
    pub fn token_user(&self, headers: &HeaderMap) -> Result<UserId, AuthError> {
        Ok(self.token_claims(headers)?.sub)
    }

    /// The claims of a token in the headers (signatures are not accepted).
    pub fn token_claims(&self, headers: &HeaderMap) -> Result<Claims, AuthError> {
        let token = credential::find_token(headers)?;
        Ok(verify_token(&self.secret, token)?)
    }

    /// Checks whatever credential the request carries, without using it up.
    pub fn check(
        &self,
        headers: &HeaderMap,
        signature: Option<&str>,
        agent_id: Option<&AgentId>,
    ) -> Result<Caller, AuthError> {
        match credential::find(headers, signature)? {
            Credential::Token(token) => Ok(Caller::Token(verify_token(&self.secret, token)?)),
            Credential::Signature(signature) => {
                let agent_id = agent_id.ok_or(SignatureError::Invalid)?;
                Ok(Caller::Signed(self.signatures.verify(signature, agent_id)?))
            }
        }
    }

    /// The caller's user, redeeming a signature (single use).
    pub fn admit(&self, caller: Caller) -> Result<UserId, AuthError> {
        match caller {
            Caller::Token(claims) => Ok(claims.sub),
            Caller::Signed(verified) => Ok(self.signatures.redeem(verified)?),
        }
    }

    /// A `conversation_signature` for this user and agent.
    pub fn sign(&self, user_id: UserId, agent_id: &AgentId) -> String {
        self.signatures.issue(user_id, agent_id)
    }
}
