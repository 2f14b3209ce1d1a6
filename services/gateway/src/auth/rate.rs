//! `HttpRate`: how many HTTP requests a caller may make, a `governor` GCRA
//! limiter keyed by the authenticated user, else by the peer's IP (the
//! socket's, never a forwarded header a client could set). Excess is 429
//! problem+json with `Retry-After`. `/healthz`, `/readyz` and `/metrics` are
//! never limited: probes and scrapers must always get through.
//!
//! [`limit`] is the middleware; it also leaves the checked claims on the
//! request so [`Principal`](crate::auth::Principal) does not check again.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use events::UserId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::Claims;
use crate::error::ApiError;
use crate::state::AppState;

pub const DEFAULT_REQUESTS_PER_SEC: u32 = 50;
pub const DEFAULT_REQUEST_BURST: u32 = 100;
/// Paths outside the limit.
pub const UNLIMITED_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];
/// Every this many checks, callers idle long enough to be back at a full
/// burst are forgotten, so the limiter's memory follows the active callers.
const FORGET_EVERY: u64 = 4096;

/// Requests per second and burst, per caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateConfig {
    pub per_sec: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Default for RateConfig {
    fn default() -> Self {
        let nonzero = |n| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            per_sec: nonzero(DEFAULT_REQUESTS_PER_SEC),
            burst: nonzero(DEFAULT_REQUEST_BURST),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Caller {
    User(UserId),
    Peer(IpAddr),
    /// No socket address (a router driven without a listener).
    Unknown,
}

/// Claims the rate limiter already checked, for the `Principal` extractor.
#[derive(Clone, Debug)]
pub(crate) struct Checked(pub(crate) Claims);

pub struct HttpRate {
    config: RateConfig,
    limiter: DefaultKeyedRateLimiter<Caller>,
    checks: AtomicU64,
}

impl HttpRate {
    pub fn new(config: RateConfig) -> Self {
        Self {
            config,
            limiter: RateLimiter::keyed(
                Quota::per_second(config.per_sec).allow_burst(config.burst),
            ),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, caller: &Caller) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(caller).map_err(|not_until| {
            let retry_after = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::TooManyRequests {
                reason: format!(
                    "too many requests: at most {} a second (bursts of {}) per caller",
                    self.config.per_sec, self.config.burst
                ),
                retry_after,
            }
        })
    }
}

/// The middleware: one token of the caller's bucket per request.
pub async fn limit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if UNLIMITED_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let caller = match state.auth.token_claims(request.headers()) {
        Ok(claims) => {
            let caller = Caller::User(claims.sub);
            request.extensions_mut().insert(Checked(claims));
            caller
        }
        Err(_) => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(Caller::Unknown, |peer| Caller::Peer(peer.0.ip())),
    };
    match state.auth.rate().check(&caller) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::info!(?caller, "request over the rate limit");
            refused.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_burst_then_waits_and_others_are_apart() {
        let nonzero = |n| NonZeroU32::new(n).expect("nonzero");
        let rate = HttpRate::new(RateConfig {
            per_sec: nonzero(1),
            burst: nonzero(3),
        });
        let alice = Caller::User(UserId::new());
        for _ in 0..3 {
            assert!(rate.check(&alice).is_ok());
        }
        match rate.check(&alice) {
            Err(ApiError::TooManyRequests { retry_after, .. }) => {
                assert!(retry_after.as_secs_f64() <= 1.0, "{retry_after:?}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(rate.check(&Caller::User(UserId::new())).is_ok());
        assert!(rate.check(&Caller::Peer([127, 0, 0, 1].into())).is_ok());
    }
}
