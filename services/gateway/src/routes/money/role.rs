//! Extractors for routes closed to a whole role: the 403 comes before the
//! body is read, so a user learns nothing from a write they may not make.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// A caller with the admin role.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require_admin()?;
        Ok(Self(principal))
    }
}

/// A caller with the finance or admin role (which one, the routes never need).
pub struct Finance;

impl FromRequestParts<AppState> for Finance {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Principal::from_request_parts(parts, state)
            .await?
            .require_finance()?;
        Ok(Self)
    }
}
