//! `Principal`: the authenticated caller of an HTTP route, and what its role
//! lets it see. Another user's data is answered as absent (404), never as
//! forbidden, so ids cannot be probed; only a route closed to a whole role
//! answers 403.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use events::UserId;

use crate::auth::Role;
use crate::auth::rate::Checked;
use crate::error::ApiError;
use crate::state::AppState;

/// Who is calling, from a checked token of any kind (Parlor, identity
/// provider, NextAuth).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
}

impl Principal {
    /// Transcripts, messages and analysis of `owner`'s conversations.
    pub fn sees_conversations_of(&self, owner: UserId) -> bool {
        self.role == Role::Admin || self.user_id == owner
    }

    /// `owner`'s costs, usage, balance and ledger entries.
    pub fn sees_money_of(&self, owner: UserId) -> bool {
        matches!(self.role, Role::Admin | Role::Finance) || self.user_id == owner
    }

    /// A text search over what was said: it reads the transcripts of every
    /// conversation it looks through, so finance, who looks through
    /// everyone's as money, may not.
    pub fn require_transcript_search(&self) -> Result<(), ApiError> {
        match self.role {
            Role::User | Role::Admin => Ok(()),
            Role::Finance => Err(ApiError::Withheld(
                "finance may not search what was said (q): transcripts are not finance's to read",
            )),
        }
    }

    /// Whole-ledger routes: every account, reconciliation, exports of entries.
    pub fn require_finance(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Finance | Role::Admin => Ok(()),
            Role::User => Err(ApiError::Forbidden { needs: "finance" }),
        }
    }

    /// Routes that change money or see everyone: grants, corrections.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::User | Role::Finance => Err(ApiError::Forbidden { needs: "admin" }),
        }
    }

    /// The user whose data a request names, if the caller may see it;
    /// `NotFound(what)` otherwise.
    pub fn money_of(&self, owner: UserId, what: &'static str) -> Result<UserId, ApiError> {
        if self.sees_money_of(owner) {
            Ok(owner)
        } else {
            Err(ApiError::NotFound(what))
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The rate limiter checked the token already on most routes.
        let claims = match parts.extensions.get::<Checked>() {
            Some(Checked(claims)) => claims.clone(),
            None => state.auth.token_claims(&parts.headers)?,
        };
        Ok(Self {
            user_id: claims.sub,
            role: claims.role,
        })
    }
}
