//! The keys a batch touched: each user with the UTC days of their calls
//! (and so the months), and each agent.

use std::collections::BTreeSet;

use chrono::{DateTime as ChronoTime, Datelike, TimeZone, Utc};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document};

/// What a batch touched: the users (with the days and months of their
/// calls) and the agents whose figures may have changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    pub days: BTreeSet<(ObjectId, Day)>,
    pub agents: BTreeSet<String>,
}

/// A UTC calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    pub fn of(at: DateTime) -> Self {
        let at = Utc
            .timestamp_millis_opt(at.timestamp_millis())
            .single()
            .unwrap_or_default();
        Self {
            year: at.year(),
            month: at.month(),
            day: at.day(),
        }
    }

    pub(crate) fn month_start(self) -> ChronoTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    pub(crate) fn next_month_start(self) -> ChronoTime<Utc> {
        let (year, month) = if self.month == 12 {
            (self.year.saturating_add(1), 1)
        } else {
            (self.year, self.month + 1)
        };
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    pub(crate) fn start(self) -> ChronoTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, self.day, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    pub(crate) fn day_key(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    pub(crate) fn month_key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

impl Touched {
    /// Notes a conversation document (before or after a change).
    pub fn note(&mut self, conversation: &Document) {
        if let (Ok(user), Ok(started)) = (
            conversation.get_object_id("userId"),
            conversation.get_datetime("startedAt"),
        ) {
            self.days.insert((user, Day::of(*started)));
        }
        if let Ok(agent) = conversation.get_str("agentId") {
            self.agents.insert(agent.to_owned());
        }
    }

    /// Adds every key of `other`.
    pub fn extend(&mut self, other: Touched) {
        self.days.extend(other.days);
        self.agents.extend(other.agents);
    }
}
