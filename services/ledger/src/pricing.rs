//! What a call costs: credits per minute, the minimum a user must cover to
//! start, and how much is held while a call runs.

use events::Credits;

use crate::config::{ConfigError, env_number};

/// ElevenLabs' Creator tier: 400 credits per extra minute (protocol doc §4.2).
pub const DEFAULT_CREDITS_PER_MINUTE: u32 = 400;
/// A user must be able to pay for one minute to start a call.
pub const DEFAULT_MIN_START_SECS: u32 = 60;
/// Ten minutes: ElevenLabs' default `max_duration_seconds`.
pub const DEFAULT_HOLD_SECS: u32 = 600;
/// No single amount the ledger books may exceed this, so sums of amounts
/// stay far from `i64` overflow whatever a request or a report says.
pub const MAX_CREDITS: Credits = Credits::new(1_000_000_000_000);

const MS_PER_MINUTE: u128 = 60_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pricing {
    pub credits_per_minute: u32,
    pub min_start_secs: u32,
    pub hold_secs: u32,
}

impl Default for Pricing {
    fn default() -> Self {
        Self {
            credits_per_minute: DEFAULT_CREDITS_PER_MINUTE,
            min_start_secs: DEFAULT_MIN_START_SECS,
            hold_secs: DEFAULT_HOLD_SECS,
        }
    }
}

impl Pricing {
    /// `PARLOR_CREDITS_PER_MINUTE`, `PARLOR_MIN_START_SECS`, `PARLOR_HOLD_SECS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let default = Self::default();
        Ok(Self {
            credits_per_minute: env_number(
                "PARLOR_CREDITS_PER_MINUTE",
                default.credits_per_minute,
            )?,
            min_start_secs: env_number("PARLOR_MIN_START_SECS", default.min_start_secs)?,
            hold_secs: env_number("PARLOR_HOLD_SECS", default.hold_secs)?,
        })
    }

    /// The duration-based charge: `duration_ms` at the per-minute rate,
    /// rounded up to whole credits (a started credit is owed).
    pub fn estimate(&self, duration_ms: u64) -> Credits {
        let credits =
            (u128::from(duration_ms) * u128::from(self.credits_per_minute)).div_ceil(MS_PER_MINUTE);
        i64::try_from(credits)
            .map(Credits::new)
            .map_or(MAX_CREDITS, |c| c.min(MAX_CREDITS))
    }

    /// What a user must have available to start a call.
    pub fn minimum(&self) -> Credits {
        self.estimate(u64::from(self.min_start_secs) * 1000)
    }

    /// What is held for a call when the user has that much (never below the minimum).
    pub fn hold_size(&self) -> Credits {
        self.estimate(u64::from(self.hold_secs) * 1000)
            .max(self.minimum())
    }
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
        assert_eq!(pricing.minimum(), Credits::new(400));
        assert_eq!(pricing.hold_size(), Credits::new(4000));
    }

    #[test]
    fn absurd_durations_are_capped_not_overflowed() {
        let pricing = Pricing {
            credits_per_minute: u32::MAX,
            ..Pricing::default()
        };
        assert_eq!(pricing.estimate(u64::MAX), MAX_CREDITS);
    }

    #[test]
    fn the_hold_never_falls_below_the_minimum() {
        let pricing = Pricing {
            hold_secs: 10,
            ..Pricing::default()
        };
        assert_eq!(pricing.hold_size(), pricing.minimum());
    }
}
