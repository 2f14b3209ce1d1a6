use bson::{Bson, Document, bson, doc};

use super::Expression;

mod conversions;

pub(super) fn eval(expression: Bson, doc: Document) -> Option<Bson> {
    Expression::parse(&expression)
        .expect("valid expression")
        .evaluate(&doc)
        .expect("evaluates")
}

pub(super) fn eval_error(expression: Bson, doc: Document) -> i32 {
    match Expression::parse(&expression) {
        Err(e) => e.code,
        Ok(parsed) => parsed.evaluate(&doc).expect_err("fails").code,
    }
}

#[test]
fn field_paths_and_variables() {
    let d = doc! { "a": { "b": 1 }, "r": [{ "x": 1 }, { "y": 2 }, { "x": 3 }] };
    assert_eq!(eval(bson!("$a.b"), d.clone()), Some(bson!(1)));
    assert_eq!(eval(bson!("$missing"), d.clone()), None);
    assert_eq!(eval(bson!("$r.x"), d.clone()), Some(bson!([1, 3])));
    assert_eq!(eval(bson!("$$ROOT.a"), d.clone()), Some(bson!({ "b": 1 })));
    assert_eq!(
        eval(bson!("$$CURRENT"), d.clone()),
        Some(Bson::Document(d.clone()))
    );
    assert_eq!(eval(bson!("$$REMOVE"), d.clone()), None);
    assert_eq!(eval(bson!({ "$literal": "$a" }), d), Some(bson!("$a")));
    assert_eq!(eval_error(bson!("$$nope"), doc! {}), 17276);
}

#[test]
fn object_and_array_literals() {
    let d = doc! { "a": 1 };
    assert_eq!(
        eval(bson!({ "x": "$a", "y": "$none" }), d.clone()),
        Some(bson!({ "x": 1 }))
    );
    assert_eq!(eval(bson!(["$a", "$none"]), d), Some(bson!([1, null])));
}

#[test]
fn arithmetic_keeps_types() {
    let d = doc! { "i": 2, "l": 3i64, "f": 0.5, "big": i32::MAX, "n": null };
    assert_eq!(
        eval(bson!({ "$add": ["$i", 1] }), d.clone()),
        Some(bson!(3))
    );
    assert_eq!(
        eval(bson!({ "$add": ["$i", "$l"] }), d.clone()),
        Some(bson!(5i64))
    );
    assert_eq!(
        eval(bson!({ "$add": ["$i", "$f"] }), d.clone()),
        Some(bson!(2.5))
    );
    assert_eq!(
        eval(bson!({ "$add": ["$big", 1] }), d.clone()),
        Some(bson!(2_147_483_648i64))
    );
    assert_eq!(
        eval(bson!({ "$add": ["$i", "$n"] }), d.clone()),
        Some(Bson::Null)
    );
    assert_eq!(
        eval(bson!({ "$add": ["$i", "$missing"] }), d.clone()),
        Some(Bson::Null)
    );
    assert_eq!(
        eval(bson!({ "$subtract": ["$i", 5] }), d.clone()),
        Some(bson!(-3))
    );
    assert_eq!(
        eval(bson!({ "$multiply": ["$i", "$l", 2] }), d.clone()),
        Some(bson!(12i64))
    );
    assert_eq!(
        eval(bson!({ "$divide": ["$i", 4] }), d.clone()),
        Some(bson!(0.5))
    );
    assert_eq!(eval(bson!({ "$mod": [7, 3] }), d.clone()), Some(bson!(1)));
    assert_eq!(eval_error(bson!({ "$divide": [1, 0] }), d.clone()), 16608);
    assert_eq!(eval_error(bson!({ "$add": [1, "x"] }), d.clone()), 16554);
    assert_eq!(eval_error(bson!({ "$subtract": [1] }), d), 16020);
}

#[test]
fn date_arithmetic() {
    let t = bson::DateTime::from_millis(10_000);
    let d = doc! { "t": t };
    assert_eq!(
        eval(bson!({ "$add": ["$t", 1000] }), d.clone()),
        Some(Bson::DateTime(bson::DateTime::from_millis(11_000)))
    );
    assert_eq!(
        eval(bson!({ "$subtract": ["$t", "$t"] }), d.clone()),
        Some(bson!(0i64))
    );
    assert_eq!(
        eval(bson!({ "$subtract": ["$t", 1] }), d),
        Some(Bson::DateTime(bson::DateTime::from_millis(9_999)))
    );
}

#[test]
fn strings() {
    let d = doc! { "a": "Ab", "n": null };
    assert_eq!(
        eval(bson!({ "$concat": ["$a", "-", "c"] }), d.clone()),
        Some(bson!("Ab-c"))
    );
    assert_eq!(
        eval(bson!({ "$concat": ["$a", "$n"] }), d.clone()),
        Some(Bson::Null)
    );
    assert_eq!(
        eval(bson!({ "$toLower": "$a" }), d.clone()),
        Some(bson!("ab"))
    );
    assert_eq!(
        eval(bson!({ "$toUpper": ["$a"] }), d.clone()),
        Some(bson!("AB"))
    );
    assert_eq!(
        eval(bson!({ "$toUpper": "$n" }), d.clone()),
        Some(bson!(""))
    );
    assert_eq!(eval_error(bson!({ "$concat": ["$a", 1] }), d), 16702);
}

#[test]
fn comparisons_and_logic() {
    let d = doc! { "a": 5, "s": "x" };
    assert_eq!(
        eval(bson!({ "$gt": ["$a", 4] }), d.clone()),
        Some(bson!(true))
    );
    assert_eq!(
        eval(bson!({ "$eq": ["$a", 5.0] }), d.clone()),
        Some(bson!(true))
    );
    // Aggregation compares across types by BSON order.
    assert_eq!(
        eval(bson!({ "$gt": ["$s", 100] }), d.clone()),
        Some(bson!(true))
    );
    assert_eq!(
        eval(bson!({ "$eq": ["$missing", null] }), d.clone()),
        Some(bson!(false))
    );
    assert_eq!(
        eval(bson!({ "$cmp": ["$a", 7] }), d.clone()),
        Some(bson!(-1))
    );
    assert_eq!(
        eval(
            bson!({ "$and": [1, "$a", { "$lt": ["$a", 9] }] }),
            d.clone()
        ),
        Some(bson!(true))
    );
    assert_eq!(
        eval(bson!({ "$or": [0, null, "$missing"] }), d.clone()),
        Some(bson!(false))
    );
    assert_eq!(eval(bson!({ "$not": [0] }), d), Some(bson!(true)));
}

#[test]
fn conditionals() {
    let d = doc! { "a": 5, "n": null };
    assert_eq!(
        eval(
            bson!({ "$cond": [{ "$gte": ["$a", 5] }, "big", "small"] }),
            d.clone()
        ),
        Some(bson!("big"))
    );
    assert_eq!(
        eval(
            bson!({ "$cond": { "if": false, "then": 1, "else": 2 } }),
            d.clone()
        ),
        Some(bson!(2))
    );
    assert_eq!(
        eval(bson!({ "$ifNull": ["$n", "$missing", "dflt"] }), d.clone()),
        Some(bson!("dflt"))
    );
    assert_eq!(eval(bson!({ "$ifNull": ["$a", 0] }), d), Some(bson!(5)));
    assert_eq!(
        eval_error(bson!({ "$cond": { "if": true, "then": 1 } }), doc! {}),
        17082
    );
}

#[test]
fn arrays() {
    let d = doc! { "r": [3, 1, 2], "s": "x" };
    assert_eq!(eval(bson!({ "$size": "$r" }), d.clone()), Some(bson!(3)));
    assert_eq!(eval(bson!({ "$sum": "$r" }), d.clone()), Some(bson!(6)));
    assert_eq!(eval(bson!({ "$avg": "$r" }), d.clone()), Some(bson!(2.0)));
    assert_eq!(eval(bson!({ "$max": "$r" }), d.clone()), Some(bson!(3)));
    assert_eq!(
        eval(bson!({ "$min": [4, "$s", null] }), d.clone()),
        Some(bson!(4))
    );
    assert_eq!(
        eval(bson!({ "$sum": [1, 2.5, "x"] }), d.clone()),
        Some(bson!(3.5))
    );
    assert_eq!(
        eval(bson!({ "$arrayElemAt": ["$r", -1] }), d.clone()),
        Some(bson!(2))
    );
    assert_eq!(eval(bson!({ "$arrayElemAt": ["$r", 5] }), d.clone()), None);
    assert_eq!(
        eval(bson!({ "$in": [1.0, "$r"] }), d.clone()),
        Some(bson!(true))
    );
    assert_eq!(
        eval(bson!({ "$concatArrays": ["$r", [9]] }), d.clone()),
        Some(bson!([3, 1, 2, 9]))
    );
    assert_eq!(
        eval(bson!({ "$isArray": "$s" }), d.clone()),
        Some(bson!(false))
    );
    assert_eq!(
        eval(bson!({ "$type": "$s" }), d.clone()),
        Some(bson!("string"))
    );
    assert_eq!(eval_error(bson!({ "$size": "$s" }), d), 17124);
}

#[test]
fn unknown_and_unsupported_operators() {
    assert_eq!(eval_error(bson!({ "$bogus": 1 }), doc! {}), 168);
    assert_eq!(
        eval_error(bson!({ "$dateFromString": { "dateString": "x" } }), doc! {}),
        238
    );
    assert_eq!(
        eval_error(bson!({ "$add": [1], "$sub": [1] }), doc! {}),
        15983
    );
    assert_eq!(eval_error(bson!({ "a": 1, "$b": 1 }), doc! {}), 16410);
}

#[test]
fn array_ends_and_objects() {
    let d = doc! { "r": [1, 2, 3], "a": { "x": 1, "y": 1 } };
    assert_eq!(eval(bson!({ "$first": "$r" }), d.clone()), Some(bson!(1)));
    assert_eq!(eval(bson!({ "$last": "$r" }), d.clone()), Some(bson!(3)));
    assert_eq!(eval(bson!({ "$first": [[]] }), d.clone()), None);
    assert_eq!(
        eval(bson!({ "$reverseArray": "$r" }), d.clone()),
        Some(bson!([3, 2, 1]))
    );
    assert_eq!(
        eval(
            bson!({ "$mergeObjects": ["$a", { "y": 2 }, null] }),
            d.clone()
        ),
        Some(bson!({ "x": 1, "y": 2 }))
    );
    assert_eq!(eval_error(bson!({ "$mergeObjects": ["$a", 1] }), d), 40400);
}
