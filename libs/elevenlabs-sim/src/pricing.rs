//! Call pricing in credits per minute by subscription tier (§4.2), and the
//! whole seconds a call's wall-clock time bills.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Subscription tier of the simulated workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 15 included minutes; no overage rate published, priced as Creator.
    Free,
    /// 50 included minutes; no overage rate published, priced as Creator.
    Starter,
    /// 400 credits per minute.
    Creator,
    /// 454 credits per minute.
    Pro,
    /// 555 credits per minute.
    Scale,
    /// 800 credits per minute.
    Business,
}

impl Tier {
    /// Credits charged per minute of call.
    pub fn credits_per_minute(self) -> u64 {
        match self {
            Self::Free | Self::Starter | Self::Creator => 400,
            Self::Pro => 454,
            Self::Scale => 555,
            Self::Business => 800,
        }
    }

    /// The name reported in `metadata.charging.tier`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Starter => "starter",
            Self::Creator => "creator",
            Self::Pro => "pro",
            Self::Scale => "scale",
            Self::Business => "business",
        }
    }
}

/// The credits a call of `duration_secs` costs on `tier`, rounded to the
/// nearest credit: the estimate a client can compute from the duration.
pub fn call_credits(tier: Tier, duration_secs: u64) -> u64 {
    (duration_secs * tier.credits_per_minute() + 30) / 60
}

/// Whole seconds billed for a call that lasted `duration` of wall-clock
/// time: every started second counts, so any call that opened costs
/// something.
pub(crate) fn billed_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_started_second_is_billed() {
        assert_eq!(billed_secs(Duration::ZERO), 0);
        assert_eq!(billed_secs(Duration::from_millis(1)), 1);
        assert_eq!(billed_secs(Duration::from_secs(22)), 22);
        assert_eq!(billed_secs(Duration::from_millis(22_001)), 23);
    }

    #[test]
    fn business_rate_matches_the_docs_example() {
        // D-pcw: a 22 s call cost 296 credits, ~800/min.
        assert_eq!(call_credits(Tier::Business, 22), 293);
        assert_eq!(call_credits(Tier::Creator, 60), 400);
        assert_eq!(call_credits(Tier::Pro, 0), 0);
    }
}
