//! Reading the projector's documents field by field, tolerant of how a
//! number was stored (Int32, Int64 or Double) and of absent fields, which
//! read as zero or empty: a read model written by an older projector still
//! answers.

use bson::{Bson, Document};
use chrono::{DateTime, Utc};

/// The value at a dotted `path` (`metrics.messageCount`).
pub fn at<'a>(document: &'a Document, path: &str) -> Option<&'a Bson> {
    let mut parts = path.split('.');
    let mut value = document.get(parts.next()?)?;
    for part in parts {
        value = value.as_document()?.get(part)?;
    }
    Some(value)
}

pub fn float(document: &Document, path: &str) -> f64 {
    match at(document, path) {
        Some(Bson::Double(n)) if n.is_finite() => *n,
        Some(Bson::Int32(n)) => f64::from(*n),
        Some(Bson::Int64(n)) => *n as f64,
        _ => 0.0,
    }
}

pub fn int(document: &Document, path: &str) -> i64 {
    match at(document, path) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        // Saturating, and NaN reads as 0: `as` does both.
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}

pub fn text(document: &Document, path: &str) -> Option<String> {
    match at(document, path)? {
        Bson::String(s) => Some(s.clone()),
        Bson::ObjectId(id) => Some(id.to_hex()),
        _ => None,
    }
}

pub fn time(document: &Document, path: &str) -> Option<DateTime<Utc>> {
    match at(document, path)? {
        Bson::DateTime(at) => Some(at.to_chrono()),
        _ => None,
    }
}

/// `credits / (seconds / 60)`; 0 for no time, never NaN or infinite (DESIGN §4).
pub fn cost_per_minute(credits: f64, seconds: i64) -> f64 {
    if seconds <= 0 {
        return 0.0;
    }
    let per_minute = credits * 60.0 / seconds as f64;
    if per_minute.is_finite() {
        per_minute
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    #[test]
    fn numbers_read_whatever_their_bson_type_and_absent_is_zero() {
        let d = doc! { "a": 3_i32, "b": 4_i64, "c": 2.5, "m": { "n": 7_i32 }, "nan": f64::NAN };
        assert_eq!(int(&d, "a") + int(&d, "b") + int(&d, "c"), 9);
        assert_eq!(float(&d, "c"), 2.5);
        assert_eq!(int(&d, "m.n"), 7);
        assert_eq!(float(&d, "nan"), 0.0);
        assert_eq!(float(&d, "missing.path"), 0.0);
        assert_eq!(text(&d, "a"), None);
    }

    #[test]
    fn cost_per_minute_is_always_finite() {
        assert_eq!(cost_per_minute(120.0, 60), 120.0);
        assert_eq!(cost_per_minute(10.0, 0), 0.0);
        assert_eq!(cost_per_minute(f64::MAX, 1), 0.0);
        assert_eq!(cost_per_minute(5.0, -3), 0.0);
    }
}
