//! Money: integer credits, as ElevenLabs bills them, and postings.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Neg, Sub};

use serde::{Deserialize, Serialize};

use crate::ids::AccountId;

/// A signed number of credits. Integers only: `cost` and `costPerMinute`
/// in read models are derived from these, never stored as the truth.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Credits(i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub const fn new(credits: i64) -> Self {
        Self(credits)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl Add for Credits {
    type Output = Credits;
    fn add(self, rhs: Credits) -> Credits {
        Credits(self.0 + rhs.0)
    }
}

impl Sub for Credits {
    type Output = Credits;
    fn sub(self, rhs: Credits) -> Credits {
        Credits(self.0 - rhs.0)
    }
}

impl Neg for Credits {
    type Output = Credits;
    fn neg(self) -> Credits {
        Credits(-self.0)
    }
}

impl Sum for Credits {
    fn sum<I: Iterator<Item = Credits>>(iter: I) -> Credits {
        iter.fold(Credits::ZERO, Add::add)
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} credits", self.0)
    }
}

/// One leg of a double-entry movement: `credits` added to `account`'s
/// balance (negative = taken away). A ledger event's postings sum to zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: AccountId,
    pub credits: Credits,
}

impl Posting {
    /// The two legs that move `credits` from one account to another.
    pub fn transfer(from: AccountId, to: AccountId, credits: Credits) -> [Posting; 2] {
        [
            Posting {
                account: from,
                credits: -credits,
            },
            Posting {
                account: to,
                credits,
            },
        ]
    }
}
