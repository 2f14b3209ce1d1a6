//! MongoDB's canonical BSON comparison: values of different types compare by
//! type bracket (MinKey < undefined < null < numbers < strings < objects <
//! arrays < binData < ObjectId < bool < date < timestamp < regex < code <
//! MaxKey), numbers compare by value across int32/int64/double/decimal,
//! strings by bytes, documents and arrays element by element.

use std::cmp::Ordering;

use bson::{Bson, Document};

/// The canonical type bracket of a value, as MongoDB's `canonicalizeBSONType`.
pub fn type_rank(value: &Bson) -> i32 {
    match value {
        Bson::MinKey => -1,
        Bson::Undefined => 0,
        Bson::Null => 5,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => 10,
        Bson::String(_) | Bson::Symbol(_) => 15,
        Bson::Document(_) => 20,
        Bson::Array(_) => 25,
        Bson::Binary(_) => 30,
        Bson::ObjectId(_) => 35,
        Bson::Boolean(_) => 40,
        Bson::DateTime(_) => 45,
        Bson::Timestamp(_) => 47,
        Bson::RegularExpression(_) => 50,
        Bson::DbPointer(_) => 55,
        Bson::JavaScriptCode(_) => 60,
        Bson::JavaScriptCodeWithScope(_) => 65,
        Bson::MaxKey => 127,
    }
}

/// Compares two values the way MongoDB sorts and compares them.
pub fn compare(a: &Bson, b: &Bson) -> Ordering {
    let by_rank = type_rank(a).cmp(&type_rank(b));
    if by_rank != Ordering::Equal {
        return by_rank;
    }
    match (a, b) {
        (Bson::String(x) | Bson::Symbol(x), Bson::String(y) | Bson::Symbol(y)) => {
            x.as_bytes().cmp(y.as_bytes())
        }
        (Bson::Document(x), Bson::Document(y)) => compare_documents(x, y),
        (Bson::Array(x), Bson::Array(y)) => compare_arrays(x, y),
        (Bson::Binary(x), Bson::Binary(y)) => x
            .bytes
            .len()
            .cmp(&y.bytes.len())
            .then_with(|| u8::from(x.subtype).cmp(&u8::from(y.subtype)))
            .then_with(|| x.bytes.cmp(&y.bytes)),
        (Bson::ObjectId(x), Bson::ObjectId(y)) => x.bytes().cmp(&y.bytes()),
        (Bson::Boolean(x), Bson::Boolean(y)) => x.cmp(y),
        (Bson::DateTime(x), Bson::DateTime(y)) => x.timestamp_millis().cmp(&y.timestamp_millis()),
        (Bson::Timestamp(x), Bson::Timestamp(y)) => {
            (x.time, x.increment).cmp(&(y.time, y.increment))
        }
        (Bson::RegularExpression(x), Bson::RegularExpression(y)) => x
            .pattern
            .cmp(&y.pattern)
            .then_with(|| x.options.cmp(&y.options)),
        (Bson::JavaScriptCode(x), Bson::JavaScriptCode(y)) => x.cmp(y),
        (Bson::JavaScriptCodeWithScope(x), Bson::JavaScriptCodeWithScope(y)) => x
            .code
            .cmp(&y.code)
            .then_with(|| compare_documents(&x.scope, &y.scope)),
        _ => match (Number::of(a), Number::of(b)) {
            (Some(x), Some(y)) => x.compare(y),
            // Same bracket without an order of its own (MinKey, null, DbPointer…).
            _ => Ordering::Equal,
        },
    }
}

/// Equality in MongoDB's sense (`1 == 1.0 == 1i64`, field order matters).
pub fn equal(a: &Bson, b: &Bson) -> bool {
    compare(a, b) == Ordering::Equal
}

/// Compares documents element by element: type bracket, then field name,
/// then value; a document that is a prefix of the other sorts first.
pub fn compare_documents(a: &Document, b: &Document) -> Ordering {
    let mut left = a.iter();
    let mut right = b.iter();
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((ka, va)), Some((kb, vb))) => {
                let ord = type_rank(va)
                    .cmp(&type_rank(vb))
                    .then_with(|| ka.as_bytes().cmp(kb.as_bytes()))
                    .then_with(|| compare(va, vb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

fn compare_arrays(a: &[Bson], b: &[Bson]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = compare(x, y);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// Byte-for-byte identity: same types, same field order, same bits. This is
/// what decides whether an update modified a document (`nModified`).
pub fn identical(a: &Bson, b: &Bson) -> bool {
    match (a, b) {
        (Bson::Double(x), Bson::Double(y)) => x.to_bits() == y.to_bits(),
        (Bson::Document(x), Bson::Document(y)) => identical_documents(x, y),
        (Bson::Array(x), Bson::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| identical(p, q))
        }
        _ => a == b,
    }
}

/// [`identical`] for whole documents.
pub fn identical_documents(a: &Document, b: &Document) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && identical(va, vb))
}

/// A numeric BSON value, for cross-type comparison and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// int32
    Int(i32),
    /// int64
    Long(i64),
    /// double, and decimal128 read as the nearest double
    Double(f64),
}

impl Number {
    /// The number a value holds, if it is numeric.
    pub fn of(value: &Bson) -> Option<Number> {
        match value {
            Bson::Int32(v) => Some(Number::Int(*v)),
            Bson::Int64(v) => Some(Number::Long(*v)),
            Bson::Double(v) => Some(Number::Double(*v)),
            Bson::Decimal128(d) => d.to_string().parse::<f64>().ok().map(Number::Double),
            _ => None,
        }
    }

    /// The value as a double (may round large longs).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(v) => f64::from(v),
            Number::Long(v) => v as f64,
            Number::Double(v) => v,
        }
    }

    /// The value as an exact integer, if it has no fractional part and fits.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(v) => Some(i64::from(v)),
            Number::Long(v) => Some(v),
            Number::Double(v) => {
                let in_range =
                    (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v);
                (v.fract() == 0.0 && in_range).then_some(v as i64)
            }
        }
    }

    /// Back to BSON, keeping the type.
    pub fn to_bson(self) -> Bson {
        match self {
            Number::Int(v) => Bson::Int32(v),
            Number::Long(v) => Bson::Int64(v),
            Number::Double(v) => Bson::Double(v),
        }
    }

    /// Numeric order; NaN sorts below every other number and equals NaN.
    pub fn compare(self, other: Number) -> Ordering {
        match (self, other) {
            (Number::Double(x), Number::Double(y)) => compare_doubles(x, y),
            (Number::Double(x), y) => compare_double_long(x, y.as_i64().unwrap_or(0)),
            (x, Number::Double(y)) => compare_double_long(y, x.as_i64().unwrap_or(0)).reverse(),
            (x, y) => x.as_i64().cmp(&y.as_i64()),
        }
    }
}

fn compare_doubles(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// Exact comparison of a double with a 64-bit integer (no rounding of the
/// integer through `as f64`).
fn compare_double_long(x: f64, y: i64) -> Ordering {
    if x.is_nan() {
        return Ordering::Less;
    }
    if x >= 9_223_372_036_854_775_808.0 {
        return Ordering::Greater;
    }
    if x < -9_223_372_036_854_775_808.0 {
        return Ordering::Less;
    }
    let whole = x.trunc() as i64;
    whole.cmp(&y).then_with(|| compare_doubles(x.fract(), 0.0))
}

#[cfg(test)]
mod tests {
    use bson::{Bson, doc, oid::ObjectId};

    use super::*;

    #[test]
    fn type_order_follows_mongodb() {
        let ascending = [
            Bson::MinKey,
            Bson::Undefined,
            Bson::Null,
            Bson::Int32(-5),
            Bson::Double(2.5),
            Bson::Int64(3),
            Bson::String("a".into()),
            Bson::Symbol("b".into()),
            Bson::Document(doc! {}),
            Bson::Array(vec![]),
            Bson::Binary(bson::Binary {
                subtype: bson::spec::BinarySubtype::Generic,
                bytes: vec![1],
            }),
            Bson::ObjectId(ObjectId::new()),
            Bson::Boolean(false),
            Bson::Boolean(true),
            Bson::DateTime(bson::DateTime::from_millis(0)),
            Bson::Timestamp(bson::Timestamp {
                time: 1,
                increment: 1,
            }),
            Bson::RegularExpression(bson::Regex {
                pattern: "a".into(),
                options: String::new(),
            }),
            Bson::MaxKey,
        ];
        for pair in ascending.windows(2) {
            assert_eq!(compare(&pair[0], &pair[1]), Ordering::Less, "{pair:?}");
            assert_eq!(compare(&pair[1], &pair[0]), Ordering::Greater, "{pair:?}");
        }
    }

    #[test]
    fn numbers_compare_by_value_across_types() {
        assert!(equal(&Bson::Int32(1), &Bson::Double(1.0)));
        assert!(equal(&Bson::Int32(1), &Bson::Int64(1)));
        let dec: bson::Decimal128 = "1.0".parse().expect("decimal");
        assert!(equal(&Bson::Decimal128(dec), &Bson::Int64(1)));
        assert_eq!(
            compare(&Bson::Int64(i64::MAX), &Bson::Double(9.3e18)),
            Ordering::Less
        );
        assert_eq!(
            compare(&Bson::Int64(i64::MAX - 1), &Bson::Int64(i64::MAX)),
            Ordering::Less
        );
        assert_eq!(
            compare(&Bson::Double(f64::NAN), &Bson::Int32(i32::MIN)),
            Ordering::Less
        );
        assert_eq!(
            compare(&Bson::Int32(2), &Bson::Double(1.5)),
            Ordering::Greater
        );
        assert_eq!(
            compare(&Bson::Double(-0.5), &Bson::Int32(0)),
            Ordering::Less
        );
    }

    #[test]
    fn strings_compare_by_bytes() {
        assert_eq!(compare(&"B".into(), &"a".into()), Ordering::Less);
        assert_eq!(compare(&"ab".into(), &"abc".into()), Ordering::Less);
    }

    #[test]
    fn documents_and_arrays_compare_elementwise() {
        let a = Bson::Document(doc! { "a": 1, "b": 2 });
        let b = Bson::Document(doc! { "a": 1, "b": 3 });
        assert_eq!(compare(&a, &b), Ordering::Less);
        assert!(!equal(
            &Bson::Document(doc! { "a": 1, "b": 2 }),
            &Bson::Document(doc! { "b": 2, "a": 1 })
        ));
        assert_eq!(
            compare(&bson::bson!([1, 2]), &bson::bson!([1, 2, 0])),
            Ordering::Less
        );
        assert_eq!(
            compare(&bson::bson!([1, "a"]), &bson::bson!(["a", 1])),
            Ordering::Less
        );
        assert!(equal(&bson::bson!([1, 2.0]), &bson::bson!([1i64, 2])));
    }

    #[test]
    fn identical_is_strict_about_types_and_order() {
        assert!(!identical(&Bson::Int32(1), &Bson::Double(1.0)));
        assert!(!identical_documents(
            &doc! { "a": 1, "b": 2 },
            &doc! { "b": 2, "a": 1 }
        ));
        assert!(identical_documents(
            &doc! { "a": [1, {"b": 2.5}] },
            &doc! { "a": [1, {"b": 2.5}] }
        ));
        assert!(!identical(&Bson::Double(0.0), &Bson::Double(-0.0)));
    }
}
