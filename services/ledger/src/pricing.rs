//! What a call costs and how its spending is bounded: credits per minute,
//! the minimum a user must cover to start, the period a hold covers and
//! is extended by, and how long a hold lives without an extension.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::{AgentId, Credits};

use crate::config::{ConfigError, env_number};
use crate::rates::RateCard;

/// ElevenLabs' Creator tier: 400 credits per extra minute (protocol doc §4.2).
pub const DEFAULT_CREDITS_PER_MINUTE: u32 = 400;
/// A user must be able to pay for one minute to start a call.
pub const DEFAULT_MIN_START_SECS: u32 = 60;
/// A hold covers one minute of call; the session extends it minute by minute.
pub const DEFAULT_HOLD_PERIOD_SECS: u32 = 60;
/// A hold neither extended nor ended for five minutes belongs to a call
/// nobody is running any more.
pub const DEFAULT_HOLD_TTL_SECS: u32 = 300;
/// A message of a text-only call: 0.3 cents (protocol doc §4.2) at the
/// Creator price of a credit ($22 for 100,000), rounded up.
pub const DEFAULT_CREDITS_PER_MESSAGE: u32 = 14;
/// A report above this many times the call's rate per minute is flagged.
pub const DEFAULT_FLAG_RATE_FACTOR: u32 = 3;
/// No single amount the ledger books may exceed this, so sums of amounts
/// stay far from `i64` overflow whatever a request or a report says.
pub const MAX_CREDITS: Credits = Credits::new(1_000_000_000_000);

const MS_PER_MINUTE: u128 = 60_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pricing {
    /// The rate where the rate card names none.
    pub credits_per_minute: u32,
    pub min_start_secs: u32,
    pub period_secs: u32,
    pub ttl_secs: u32,
    pub flag_rate_factor: u32,
    /// Per message of a text-only call, where the rate card names none.
    pub credits_per_message: u32,
    pub rates: Arc<RateCard>,
}

impl Default for Pricing {
    fn default() -> Self {
        Self {
            credits_per_minute: DEFAULT_CREDITS_PER_MINUTE,
            min_start_secs: DEFAULT_MIN_START_SECS,
            period_secs: DEFAULT_HOLD_PERIOD_SECS,
            ttl_secs: DEFAULT_HOLD_TTL_SECS,
            flag_rate_factor: DEFAULT_FLAG_RATE_FACTOR,
            credits_per_message: DEFAULT_CREDITS_PER_MESSAGE,
            rates: Arc::default(),
        }
    }
}

impl Pricing {
    /// `PARLOR_CREDITS_PER_MINUTE`, `PARLOR_MIN_START_SECS`,
    /// `PARLOR_HOLD_PERIOD_SECS`, `PARLOR_HOLD_TTL_SECS`,
    /// `PARLOR_FLAG_RATE_FACTOR`, `PARLOR_CREDITS_PER_MESSAGE`, `PARLOR_RATE_CARD` (a file, see [`crate::rates`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        let default = Self::default();
        Self {
            credits_per_minute: env_number(
                "PARLOR_CREDITS_PER_MINUTE",
                default.credits_per_minute,
            )?,
            min_start_secs: env_number("PARLOR_MIN_START_SECS", default.min_start_secs)?,
            period_secs: env_number("PARLOR_HOLD_PERIOD_SECS", default.period_secs)?,
            ttl_secs: env_number("PARLOR_HOLD_TTL_SECS", default.ttl_secs)?,
            flag_rate_factor: env_number("PARLOR_FLAG_RATE_FACTOR", default.flag_rate_factor)?,
            credits_per_message: env_number(
                "PARLOR_CREDITS_PER_MESSAGE",
                default.credits_per_message,
            )?,
            rates: match std::env::var_os("PARLOR_RATE_CARD") {
                Some(path) => Arc::new(RateCard::load(Path::new(&path))?),
                None => default.rates,
            },
        }
        .validated()
    }

    /// Refuses settings under which holds could not work.
    pub fn validated(self) -> Result<Self, ConfigError> {
        let out_of_range = |name, value: u32, why| ConfigError::OutOfRange {
            name,
            value: u64::from(value),
            why,
        };
        if self.period_secs == 0 {
            return Err(out_of_range(
                "PARLOR_HOLD_PERIOD_SECS",
                self.period_secs,
                "a hold must cover at least one second",
            ));
        }
        if self.ttl_secs <= self.period_secs {
            return Err(out_of_range(
                "PARLOR_HOLD_TTL_SECS",
                self.ttl_secs,
                "must be longer than PARLOR_HOLD_PERIOD_SECS, or running calls would expire",
            ));
        }
        if self.flag_rate_factor == 0 {
            return Err(out_of_range(
                "PARLOR_FLAG_RATE_FACTOR",
                self.flag_rate_factor,
                "must be at least 1",
            ));
        }
        Ok(self)
    }

    /// Credits per minute for a call of `agent` priced at `at`.
    pub fn rate(&self, agent: Option<&AgentId>, at: DateTime<Utc>) -> u32 {
        self.rates.rate(agent, at, self.credits_per_minute)
    }

    /// Credits per message of a text-only call of `agent` started at `at`.
    pub fn message_rate(&self, agent: Option<&AgentId>, at: DateTime<Utc>) -> u32 {
        self.rates.message_rate(agent, at, self.credits_per_message)
    }

    /// The default rate's duration-based charge.
    pub fn estimate(&self, duration_ms: u64) -> Credits {
        estimate(self.credits_per_minute, duration_ms)
    }

    /// What a user must have available to start a call at `rate`.
    pub fn minimum(&self, rate: u32) -> Credits {
        estimate(rate, u64::from(self.min_start_secs) * 1000)
    }

    /// What one period of call costs at `rate` (never below the minimum).
    pub fn period_cost(&self, rate: u32) -> Credits {
        estimate(rate, self.period_ms()).max(self.minimum(rate))
    }

    pub fn period_ms(&self) -> u64 {
        u64::from(self.period_secs) * 1000
    }

    pub fn ttl_ms(&self) -> u64 {
        u64::from(self.ttl_secs) * 1000
    }
}

/// `duration_ms` at `rate` credits per minute, rounded up to whole credits
/// (a started credit is owed).
pub fn estimate(rate: u32, duration_ms: u64) -> Credits {
    let credits = (u128::from(duration_ms) * u128::from(rate)).div_ceil(MS_PER_MINUTE);
    i64::try_from(credits)
        .map(Credits::new)
        .map_or(MAX_CREDITS, |c| c.min(MAX_CREDITS))
}

/// How much call time `credits` pay for at `rate`, rounded down; a free
/// rate covers any call.
pub fn covers_ms(rate: u32, credits: Credits) -> u64 {
    if rate == 0 {
        return u64::MAX;
    }
    let credits = u128::try_from(credits.get()).unwrap_or(0);
    u64::try_from(credits * MS_PER_MINUTE / u128::from(rate)).unwrap_or(u64::MAX)
}

/// The cost per minute that `credits` for `duration_ms` imply; zero for a
/// zero-length call, never a division by zero.
pub fn per_minute(credits: Credits, duration_ms: u64) -> Credits {
    if duration_ms == 0 {
        return Credits::ZERO;
    }
    let credits = i128::from(credits.get()) * 60_000 / i128::from(duration_ms);
    i64::try_from(credits).map_or(MAX_CREDITS, |c| Credits::new(c).min(MAX_CREDITS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_round_up_to_whole_credits() {
        let pricing = Pricing::default();
        assert_eq!(pricing.estimate(0), Credits::ZERO);
        assert_eq!(pricing.estimate(1), Credits::new(1));
        assert_eq!(pricing.estimate(150), Credits::new(1));
        assert_eq!(pricing.estimate(151), Credits::new(2));
        assert_eq!(pricing.estimate(60_000), Credits::new(400));
        assert_eq!(pricing.estimate(90_500), Credits::new(604));
        assert_eq!(pricing.minimum(400), Credits::new(400));
        assert_eq!(pricing.period_cost(400), Credits::new(400));
    }

    #[test]
    fn absurd_durations_are_capped_not_overflowed() {
        assert_eq!(estimate(u32::MAX, u64::MAX), MAX_CREDITS);
        assert_eq!(per_minute(MAX_CREDITS, 1), MAX_CREDITS);
        assert_eq!(covers_ms(0, Credits::new(5)), u64::MAX);
    }

    #[test]
    fn a_period_never_costs_less_than_the_minimum_and_covers_at_least_itself() {
        let pricing = Pricing {
            period_secs: 10,
            ttl_secs: 30,
            ..Pricing::default()
        };
        assert_eq!(pricing.period_cost(400), pricing.minimum(400));
        for rate in [1, 7, 400, 800, 1_000_003] {
            let cost = estimate(rate, pricing.period_ms());
            assert!(covers_ms(rate, cost) >= pricing.period_ms(), "{rate}");
        }
    }

    #[test]
    fn zero_length_calls_cost_nothing_per_minute() {
        assert_eq!(per_minute(Credits::new(500), 0), Credits::ZERO);
        assert_eq!(per_minute(Credits::new(500), 30_000), Credits::new(1_000));
    }

    #[test]
    fn settings_that_would_expire_running_calls_are_refused() {
        let pricing = Pricing {
            period_secs: 60,
            ttl_secs: 60,
            ..Pricing::default()
        };
        assert!(pricing.validated().is_err());
        assert!(
            Pricing {
                period_secs: 0,
                ..Pricing::default()
            }
            .validated()
            .is_err()
        );
        assert!(Pricing::default().validated().is_ok());
    }
}
