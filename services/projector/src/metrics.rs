//! The `metrics` object and the rounding of durations: pure arithmetic
//! that never yields NaN or infinity.

use crate::document::{Metrics, Projection};

/// Milliseconds to whole seconds, rounded to the nearest (half up),
/// saturating at `i32::MAX`.
pub fn whole_seconds(duration_ms: i64) -> i32 {
    let secs = duration_ms.max(0).saturating_add(500) / 1000;
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// Metrics of a call with the counts `book` keeps (so overflowed messages
/// count too), costing `credits`, lasting `duration_secs` seconds.
pub fn compute(book: &Projection, credits: f64, duration_secs: i32) -> Metrics {
    let total_latency = i32::try_from(book.latency_sum_ms.max(0)).unwrap_or(i32::MAX);
    let average_latency = if book.latency_turns <= 0 {
        0.0
    } else {
        book.latency_sum_ms as f64 / book.latency_turns as f64
    };
    Metrics {
        total_latency,
        average_latency,
        message_count: i32::try_from(book.messages_total.max(0)).unwrap_or(i32::MAX),
        credits_used: credits,
        cost_per_minute: cost_per_minute(credits, duration_secs),
    }
}

/// `credits / (duration / 60)`; 0 for a zero-length call (DESIGN §4).
pub fn cost_per_minute(credits: f64, duration_secs: i32) -> f64 {
    if duration_secs <= 0 {
        return 0.0;
    }
    let per_minute = credits * 60.0 / f64::from(duration_secs);
    if per_minute.is_finite() {
        per_minute
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_summed_and_averaged_over_agent_turns_that_have_one() {
        let book = Projection {
            messages_total: 5,
            latency_sum_ms: 1100,
            latency_turns: 2,
            ..Projection::default()
        };
        let metrics = compute(&book, 12.0, 90);
        assert_eq!(metrics.total_latency, 1100);
        assert_eq!(metrics.average_latency, 550.0);
        assert_eq!(metrics.message_count, 5);
        assert_eq!(metrics.credits_used, 12.0);
        assert_eq!(metrics.cost_per_minute, 8.0);
    }

    #[test]
    fn a_zero_length_call_costs_zero_per_minute() {
        assert_eq!(cost_per_minute(10.0, 0), 0.0);
        assert_eq!(cost_per_minute(0.0, 0), 0.0);
        let metrics = compute(&Projection::default(), 0.0, 0);
        assert_eq!(metrics.average_latency, 0.0);
        assert_eq!(metrics.cost_per_minute, 0.0);
    }

    #[test]
    fn durations_round_to_the_nearest_second_and_saturate() {
        assert_eq!(whole_seconds(0), 0);
        assert_eq!(whole_seconds(499), 0);
        assert_eq!(whole_seconds(500), 1);
        assert_eq!(whole_seconds(61_400), 61);
        assert_eq!(whole_seconds(-5), 0);
        assert_eq!(whole_seconds(i64::MAX), i32::MAX);
    }
}
