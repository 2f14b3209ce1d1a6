//! Rounding, type conversions and dates.

use bson::{Bson, bson, doc};

use super::{eval, eval_error};

#[test]
fn rounding_keeps_types() {
    let d = doc! { "i": -5, "f": -2.5, "l": 1234i64 };
    assert_eq!(eval(bson!({ "$abs": "$i" }), d.clone()), Some(bson!(5)));
    assert_eq!(
        eval(bson!({ "$abs": i32::MIN }), d.clone()),
        Some(bson!(2_147_483_648i64))
    );
    assert_eq!(
        eval(bson!({ "$floor": "$f" }), d.clone()),
        Some(bson!(-3.0))
    );
    assert_eq!(eval(bson!({ "$ceil": "$f" }), d.clone()), Some(bson!(-2.0)));
    assert_eq!(eval(bson!({ "$ceil": "$i" }), d.clone()), Some(bson!(-5)));
    // Half to even, as MongoDB rounds.
    assert_eq!(
        eval(bson!({ "$round": [2.5] }), d.clone()),
        Some(bson!(2.0))
    );
    assert_eq!(
        eval(bson!({ "$round": [3.5] }), d.clone()),
        Some(bson!(4.0))
    );
    assert_eq!(
        eval(bson!({ "$round": [1.2345, 2] }), d.clone()),
        Some(bson!(1.23))
    );
    assert_eq!(
        eval(bson!({ "$round": ["$l", -2] }), d.clone()),
        Some(bson!(1200i64))
    );
    assert_eq!(
        eval(bson!({ "$trunc": ["$f"] }), d.clone()),
        Some(bson!(-2.0))
    );
    assert_eq!(
        eval(bson!({ "$round": ["$missing"] }), d.clone()),
        Some(Bson::Null)
    );
    assert_eq!(eval_error(bson!({ "$abs": "x" }), d), 28765);
}

#[test]
fn conversions() {
    let id = bson::oid::ObjectId::parse_str("5f1b2c3d4e5f6a7b8c9d0e1f").expect("oid");
    let d = doc! { "id": id, "t": bson::DateTime::from_millis(0), "s": "42" };
    assert_eq!(
        eval(bson!({ "$toString": "$id" }), d.clone()),
        Some(bson!("5f1b2c3d4e5f6a7b8c9d0e1f"))
    );
    assert_eq!(
        eval(bson!({ "$toString": "$t" }), d.clone()),
        Some(bson!("1970-01-01T00:00:00.000Z"))
    );
    assert_eq!(
        eval(bson!({ "$toString": 2.5 }), d.clone()),
        Some(bson!("2.5"))
    );
    assert_eq!(eval(bson!({ "$toInt": "$s" }), d.clone()), Some(bson!(42)));
    assert_eq!(eval(bson!({ "$toInt": 9.9 }), d.clone()), Some(bson!(9)));
    assert_eq!(
        eval(bson!({ "$toLong": true }), d.clone()),
        Some(bson!(1i64))
    );
    assert_eq!(
        eval(bson!({ "$toDouble": "$s" }), d.clone()),
        Some(bson!(42.0))
    );
    assert_eq!(eval(bson!({ "$toBool": 0 }), d.clone()), Some(bson!(false)));
    assert_eq!(eval(bson!({ "$toBool": "" }), d.clone()), Some(bson!(true)));
    assert_eq!(
        eval(bson!({ "$toInt": "$missing" }), d.clone()),
        Some(Bson::Null)
    );
    assert_eq!(eval_error(bson!({ "$toInt": "x" }), d.clone()), 241);
    assert_eq!(eval_error(bson!({ "$toInt": 3e10 }), d), 241);
}

#[test]
fn dates_in_utc() {
    // 2024-02-29T13:05:09.007Z, a Thursday.
    let d = doc! { "t": bson::DateTime::from_millis(1_709_211_909_007) };
    assert_eq!(
        eval(bson!({ "$dateToString": { "date": "$t" } }), d.clone()),
        Some(bson!("2024-02-29T13:05:09.007Z"))
    );
    assert_eq!(
        eval(
            bson!({ "$dateToString": { "format": "%Y-%m-%d %w %j %%", "date": "$t" } }),
            d.clone()
        ),
        Some(bson!("2024-02-29 5 060 %"))
    );
    assert_eq!(
        eval(
            bson!({ "$dateToString": { "date": "$none", "onNull": "n/a" } }),
            d.clone()
        ),
        Some(bson!("n/a"))
    );
    assert_eq!(eval(bson!({ "$year": "$t" }), d.clone()), Some(bson!(2024)));
    assert_eq!(eval(bson!({ "$month": "$t" }), d.clone()), Some(bson!(2)));
    assert_eq!(
        eval(bson!({ "$dayOfMonth": ["$t"] }), d.clone()),
        Some(bson!(29))
    );
    assert_eq!(
        eval(
            bson!({ "$hour": { "date": "$t", "timezone": "UTC" } }),
            d.clone()
        ),
        Some(bson!(13))
    );
    assert_eq!(
        eval(bson!({ "$millisecond": "$t" }), d.clone()),
        Some(bson!(7))
    );
    assert_eq!(
        eval(bson!({ "$dayOfWeek": "$t" }), d.clone()),
        Some(bson!(5))
    );
    assert_eq!(
        eval(bson!({ "$year": "$none" }), d.clone()),
        Some(Bson::Null)
    );
    assert_eq!(
        eval_error(
            bson!({ "$year": { "date": "$t", "timezone": "Europe/Paris" } }),
            d.clone()
        ),
        238
    );
    assert_eq!(
        eval_error(
            bson!({ "$dateToString": { "date": "$t", "format": "%Q" } }),
            d.clone()
        ),
        18536
    );
    assert_eq!(eval_error(bson!({ "$year": "x" }), d), 16006);
}
