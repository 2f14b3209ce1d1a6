//! The `from` / `to` query parameters of the money and export routes:
//! RFC 3339 instants or plain `YYYY-MM-DD` dates (UTC). A date `from` is
//! the start of that day, a date `to` the end of it (the next day's
//! start), so `from=2026-01-05&to=2026-01-05` is that one day. The window
//! is `[from, to)`; `from` must be before `to`.

use bson::Document;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::error::ApiError;

/// A half-open time window; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    /// Parses the two parameters as given (absent ends stay open).
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, ApiError> {
        let window = Self {
            from: from.map(|text| instant("from", text, false)).transpose()?,
            to: to.map(|text| instant("to", text, true)).transpose()?,
        };
        if let (Some(from), Some(to)) = (window.from, window.to)
            && from >= to
        {
            return Err(ApiError::BadRequest(format!(
                "from ({}) must be before to ({})",
                from.to_rfc3339(),
                to.to_rfc3339()
            )));
        }
        Ok(window)
    }

    /// The MongoDB condition on a date field for this window, if any end is set.
    pub fn condition(&self) -> Option<Document> {
        let mut condition = Document::new();
        if let Some(from) = self.from {
            condition.insert("$gte", bson::DateTime::from_chrono(from));
        }
        if let Some(to) = self.to {
            condition.insert("$lt", bson::DateTime::from_chrono(to));
        }
        (!condition.is_empty()).then_some(condition)
    }

    /// Adds this window's condition on `field` to `filter`.
    pub fn restrict(&self, filter: &mut Document, field: &str) {
        if let Some(condition) = self.condition() {
            filter.insert(field, condition);
        }
    }
}

fn instant(name: &str, text: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::BadRequest(format!(
            "{name} `{text}` is neither an RFC 3339 time (2026-01-05T10:00:00Z) nor a date (2026-01-05)"
        ))
    })?;
    let start = day.and_time(NaiveTime::MIN).and_utc();
    if end_of_day {
        start
            .checked_add_signed(TimeDelta::days(1))
            .ok_or_else(|| ApiError::BadRequest(format!("{name} `{text}` is out of range")))
    } else {
        Ok(start)
    }
}

/// Start of the UTC day holding `at`.
pub fn day_start(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive().and_time(NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn dates_cover_whole_days_and_instants_are_taken_as_given() {
        let day = Window::parse(Some("2026-01-05"), Some("2026-01-05")).expect("one day");
        assert_eq!(day.from, Some(at("2026-01-05T00:00:00Z")));
        assert_eq!(day.to, Some(at("2026-01-06T00:00:00Z")));
        let exact = Window::parse(Some("2026-01-05T10:00:00+02:00"), None).expect("instant");
        assert_eq!(exact.from, Some(at("2026-01-05T08:00:00Z")));
        assert_eq!(exact.to, None);
    }

    #[test]
    fn bad_or_reversed_windows_are_refused() {
        for (from, to) in [
            (Some("yesterday"), None),
            (None, Some("2026-13-01")),
            (Some("2026-01-06"), Some("2026-01-05")),
            (Some("2026-01-05T00:00:00Z"), Some("2026-01-05T00:00:00Z")),
            (None, Some("+262143-12-31")),
        ] {
            assert!(
                matches!(Window::parse(from, to), Err(ApiError::BadRequest(_))),
                "{from:?}..{to:?}"
            );
        }
    }

    #[test]
    fn the_condition_names_only_the_ends_given() {
        assert_eq!(Window::default().condition(), None);
        let from = Window::parse(Some("2026-01-05"), None).expect("from");
        assert_eq!(
            from.condition(),
            Some(doc! { "$gte": bson::DateTime::from_chrono(at("2026-01-05T00:00:00Z")) })
        );
    }
}
