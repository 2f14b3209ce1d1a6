//! Arithmetic that keeps MongoDB's number types: int32 op int32 stays int32
//! until it overflows into int64; anything with a double becomes a double.
//! What happens when int64 overflows differs (updates fail, aggregation
//! falls back to double), so these report it and let the caller decide.

use crate::engine::order::Number;

/// Adds two numbers; `None` when an int64 result would overflow.
pub fn add(a: Number, b: Number) -> Option<Number> {
    integer_or_double(a, b, i64::checked_add, |x, y| x + y)
}

/// Subtracts `b` from `a`; `None` when an int64 result would overflow.
pub fn subtract(a: Number, b: Number) -> Option<Number> {
    integer_or_double(a, b, i64::checked_sub, |x, y| x - y)
}

/// Multiplies two numbers; `None` when an int64 result would overflow.
pub fn multiply(a: Number, b: Number) -> Option<Number> {
    integer_or_double(a, b, i64::checked_mul, |x, y| x * y)
}

fn integer_or_double(
    a: Number,
    b: Number,
    integer: fn(i64, i64) -> Option<i64>,
    double: fn(f64, f64) -> f64,
) -> Option<Number> {
    match (a, b) {
        (Number::Double(_), _) | (_, Number::Double(_)) => {
            Some(Number::Double(double(a.as_f64(), b.as_f64())))
        }
        (Number::Int(x), Number::Int(y)) => {
            let wide = integer(i64::from(x), i64::from(y))?;
            Some(i32::try_from(wide).map_or(Number::Long(wide), Number::Int))
        }
        _ => {
            let x = a.as_i64()?;
            let y = b.as_i64()?;
            integer(x, y).map(Number::Long)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int32_stays_int32_until_overflow() {
        assert_eq!(add(Number::Int(1), Number::Int(2)), Some(Number::Int(3)));
        assert_eq!(
            add(Number::Int(i32::MAX), Number::Int(1)),
            Some(Number::Long(i64::from(i32::MAX) + 1))
        );
        assert_eq!(
            multiply(Number::Int(65_536), Number::Int(65_536)),
            Some(Number::Long(4_294_967_296))
        );
    }

    #[test]
    fn long_and_double_promotion() {
        assert_eq!(add(Number::Int(1), Number::Long(2)), Some(Number::Long(3)));
        assert_eq!(
            add(Number::Long(1), Number::Double(0.5)),
            Some(Number::Double(1.5))
        );
        assert_eq!(
            subtract(Number::Int(1), Number::Double(0.5)),
            Some(Number::Double(0.5))
        );
        assert_eq!(add(Number::Long(i64::MAX), Number::Int(1)), None);
    }
}
