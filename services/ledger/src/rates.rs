//! The rate card: credits per minute per agent and per ElevenLabs plan
//! tier, each rate from its effective time, and the price of a credit so
//! reports can show money. A call is priced once, when it is held (or
//! charged, without a hold), at the rate in effect then; the rate is kept
//! on the hold, so a later change never rewrites a past charge.
//!
//! File format (JSON, `PARLOR_RATE_CARD`):
//!
//! ```json
//! {
//!   "price": {"currency": "USD", "per_credit": "0.00022"},
//!   "default_tier": "creator",
//!   "rates": [
//!     {"from": "2025-01-01T00:00:00Z", "tier": "business"},
//!     {"from": "2025-06-01T00:00:00Z", "agent_id": "agent_x", "credits_per_minute": 500}
//!   ]
//! }
//! ```
//!
//! An entry names a `tier` (its rate from protocol doc §4.2) or
//! `credits_per_minute`, and/or `credits_per_message` (text-only calls); one with `agent_id` applies to that agent only
//! and wins over entries without. Every field is optional.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use events::{AgentId, Credits};
use serde::{Deserialize, Serialize};

/// ElevenLabs' plans (protocol doc §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Free,
    Starter,
    Creator,
    Pro,
    Scale,
    Business,
}

impl Tier {
    /// Credits per extra minute; Free and Starter sell no extra minutes,
    /// so they are billed like Creator, the cheapest tier that does.
    pub fn credits_per_minute(self) -> u32 {
        match self {
            Self::Free | Self::Starter | Self::Creator => 400,
            Self::Pro => 454,
            Self::Scale => 555,
            Self::Business => 800,
        }
    }
}

/// What one credit costs, as a decimal amount of `currency`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub currency: String,
    /// Decimal, e.g. `"0.00022"` (Creator: $22 for 100,000 credits).
    pub per_credit: Decimal,
}

impl Default for Price {
    fn default() -> Self {
        Self {
            currency: "USD".to_owned(),
            per_credit: Decimal::from_nanos(220_000),
        }
    }
}

impl Price {
    /// `credits` in money, rounded to whole nano-units.
    pub fn of(&self, credits: Credits) -> Decimal {
        Decimal::from_nanos(i128::from(credits.get()) * self.per_credit.nanos)
    }
}

/// A decimal with nine places, kept as an integer of nano-units so sums
/// are exact; written and read as a string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal {
    nanos: i128,
}

const NANOS: i128 = 1_000_000_000;

impl Decimal {
    pub const fn from_nanos(nanos: i128) -> Self {
        Self { nanos }
    }
}

impl std::ops::Add for Decimal {
    type Output = Decimal;
    fn add(self, rhs: Decimal) -> Decimal {
        Decimal::from_nanos(self.nanos + rhs.nanos)
    }
}

impl std::iter::Sum for Decimal {
    fn sum<I: Iterator<Item = Decimal>>(iter: I) -> Decimal {
        iter.fold(Decimal::default(), |a, b| a + b)
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.unsigned_abs();
        let (whole, frac) = (abs / NANOS.unsigned_abs(), abs % NANOS.unsigned_abs());
        let frac = format!("{frac:09}");
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{frac}")
        }
    }
}

impl std::str::FromStr for Decimal {
    type Err = RateCardError;
    fn from_str(s: &str) -> Result<Self, RateCardError> {
        let bad = || RateCardError::Decimal(s.to_owned());
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || frac.len() > 9 || !all_digits(whole) || !all_digits(frac) {
            return Err(bad());
        }
        let whole: i128 = whole.parse().map_err(|_| bad())?;
        let frac: i128 = format!("{frac:0<9}").parse().map_err(|_| bad())?;
        let nanos = whole.checked_mul(NANOS).ok_or_else(bad)? + frac;
        Ok(Self::from_nanos(if negative { -nanos } else { nanos }))
    }
}

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One rate from `from` on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateEntry {
    pub from: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_per_minute: Option<u32>,
    /// What a message of a text-only call costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_per_message: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateCard {
    #[serde(default)]
    pub price: Price,
    /// The rate before any entry applies; the ledger's default rate
    /// (`PARLOR_CREDITS_PER_MINUTE`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tier: Option<Tier>,
    #[serde(default)]
    pub rates: Vec<RateEntry>,
}

/// A rate card that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RateCardError {
    #[error("cannot read the rate card {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the rate card {path} is not valid")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "rate entry {index} (from {from}) names no tier, credits_per_minute or credits_per_message"
    )]
    NoRate { index: usize, from: DateTime<Utc> },
    #[error("{0:?} is not a decimal amount with at most nine places")]
    Decimal(String),
}

impl RateCard {
    pub fn load(path: &Path) -> Result<Self, RateCardError> {
        let text = std::fs::read_to_string(path).map_err(|source| RateCardError::Read {
            path: path.to_owned(),
            source,
        })?;
        let card: Self = serde_json::from_str(&text).map_err(|source| RateCardError::Parse {
            path: path.to_owned(),
            source,
        })?;
        card.validated()
    }

    fn validated(self) -> Result<Self, RateCardError> {
        for (index, entry) in self.rates.iter().enumerate() {
            if entry.tier.is_none()
                && entry.credits_per_minute.is_none()
                && entry.credits_per_message.is_none()
            {
                return Err(RateCardError::NoRate {
                    index,
                    from: entry.from,
                });
            }
        }
        Ok(self)
    }

    /// Credits per minute for a call of `agent` priced at `at`; `default`
    /// when no entry applies. Of the entries in effect, the latest for this
    /// agent wins, else the latest for everyone.
    pub fn rate(&self, agent: Option<&AgentId>, at: DateTime<Utc>, default: u32) -> u32 {
        self.in_effect(agent, at, |e| {
            e.credits_per_minute
                .or(e.tier.map(Tier::credits_per_minute))
        })
        .or(self.default_tier.map(Tier::credits_per_minute))
        .unwrap_or(default)
    }

    /// Credits per message of a text-only call of `agent` started at `at`.
    pub fn message_rate(&self, agent: Option<&AgentId>, at: DateTime<Utc>, default: u32) -> u32 {
        self.in_effect(agent, at, |e| e.credits_per_message)
            .unwrap_or(default)
    }

    /// What `pick` finds in the latest entry in effect at `at` that has
    /// it: the agent's own entries first, then those for everyone.
    fn in_effect(
        &self,
        agent: Option<&AgentId>,
        at: DateTime<Utc>,
        pick: impl Fn(&RateEntry) -> Option<u32>,
    ) -> Option<u32> {
        let latest = |for_agent: bool| {
            self.rates
                .iter()
                .filter(|e| e.from <= at)
                .filter(|e| match (&e.agent_id, for_agent) {
                    (Some(a), true) => Some(a) == agent,
                    (None, false) => true,
                    _ => false,
                })
                .filter_map(|e| pick(e).map(|value| (e.from, value)))
                .max_by_key(|(from, _)| *from)
                .map(|(_, value)| value)
        };
        latest(true).or_else(|| latest(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    #[test]
    fn the_latest_rate_in_effect_applies_and_an_agent_rate_beats_the_general_one() {
        let card: RateCard = serde_json::from_value(serde_json::json!({
            "default_tier": "creator",
            "rates": [
                {"from": "2025-01-01T00:00:00Z", "tier": "business"},
                {"from": "2025-03-01T00:00:00Z", "tier": "pro"},
                {"from": "2025-02-01T00:00:00Z", "agent_id": "agent_x", "credits_per_minute": 500},
            ]
        }))
        .expect("card");
        let x: AgentId = "agent_x".parse().expect("agent");
        let y: AgentId = "agent_y".parse().expect("agent");
        assert_eq!(card.rate(Some(&y), at("2024-12-31T23:59:59Z"), 1), 400);
        assert_eq!(card.rate(Some(&y), at("2025-01-01T00:00:00Z"), 1), 800);
        assert_eq!(card.rate(Some(&x), at("2025-01-15T00:00:00Z"), 1), 800);
        assert_eq!(card.rate(Some(&x), at("2025-02-15T00:00:00Z"), 1), 500);
        assert_eq!(card.rate(Some(&x), at("2025-04-01T00:00:00Z"), 1), 500);
        assert_eq!(card.rate(Some(&y), at("2025-04-01T00:00:00Z"), 1), 454);
        assert_eq!(card.rate(None, at("2025-04-01T00:00:00Z"), 1), 454);
        assert_eq!(
            RateCard::default().rate(Some(&x), at("2025-04-01T00:00:00Z"), 7),
            7
        );
        assert_eq!(
            card.message_rate(Some(&x), at("2025-04-01T00:00:00Z"), 14),
            14
        );
    }

    #[test]
    fn a_message_rate_entry_does_not_hide_the_minute_rate() {
        let card: RateCard = serde_json::from_value(serde_json::json!({
            "rates": [
                {"from": "2025-01-01T00:00:00Z", "tier": "pro"},
                {"from": "2025-02-01T00:00:00Z", "credits_per_message": 20},
            ]
        }))
        .expect("card");
        let card = card.validated().expect("valid");
        let now = at("2025-03-01T00:00:00Z");
        assert_eq!(card.rate(None, now, 1), 454);
        assert_eq!(card.message_rate(None, now, 14), 20);
        assert_eq!(card.message_rate(None, at("2025-01-15T00:00:00Z"), 14), 14);
    }

    #[test]
    fn money_is_exact_decimal() {
        let price = Price::default();
        assert_eq!(price.of(Credits::new(100_000)).to_string(), "22");
        assert_eq!(price.of(Credits::new(-3)).to_string(), "-0.00066");
        let parsed: Decimal = "0.000000001".parse().expect("decimal");
        assert_eq!(parsed, Decimal::from_nanos(1));
        for bad in ["", ".5", "1.0000000001", "1e3", "1,5", "--1"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_entry_without_a_rate_and_an_unreadable_file_are_clear_errors() {
        let card: RateCard = serde_json::from_value(serde_json::json!({
            "rates": [{"from": "2025-01-01T00:00:00Z"}]
        }))
        .expect("parses");
        assert!(matches!(
            card.validated(),
            Err(RateCardError::NoRate { index: 0, .. })
        ));
        assert!(matches!(
            RateCard::load(Path::new("/nonexistent/rates.json")),
            Err(RateCardError::Read { .. })
        ));
    }
}
