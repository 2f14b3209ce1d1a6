//! Array update operators: `$push`, `$addToSet`, `$pull`, `$pop` and the
//! positional `$` and `$[]` paths.

use bson::{Document, doc};

use super::{apply_error, ctx, parse_error, run};
use crate::engine::update::Update;

#[test]
fn push_and_its_modifiers() {
    let (doc, _) = run(
        doc! { "$push": { "a": 3, "new": { "x": 1 } } },
        doc! { "_id": 1, "a": [1, 2] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [1, 2, 3], "new": [{ "x": 1 }] });
    let (doc, _) = run(
        doc! { "$push": { "a": [4, 5] } },
        doc! { "_id": 1, "a": [] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [[4, 5]] });
    let (doc, _) = run(
        doc! { "$push": { "a": { "$each": [5, 6, 7], "$slice": -3 } } },
        doc! { "_id": 1, "a": [1, 2] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [5, 6, 7] });
    let (doc, _) = run(
        doc! { "$push": { "a": { "$each": [9], "$position": 0 } } },
        doc! { "_id": 1, "a": [1, 2] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [9, 1, 2] });
    let (doc, _) = run(
        doc! { "$push": { "a": { "$each": [9], "$position": -1 } } },
        doc! { "_id": 1, "a": [1, 2] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [1, 9, 2] });
    let (doc, _) = run(
        doc! { "$push": { "a": { "$each": [3, 1], "$sort": -1, "$slice": 2 } } },
        doc! { "_id": 1, "a": [2] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [3, 2] });
    let (doc, _) = run(
        doc! { "$push": { "a": { "$each": [{ "s": 2 }], "$sort": { "s": 1 } } } },
        doc! { "_id": 1, "a": [{ "s": 3 }, { "s": 1 }] },
    );
    assert_eq!(
        doc,
        doc! { "_id": 1, "a": [{ "s": 1 }, { "s": 2 }, { "s": 3 }] }
    );
    let (doc, _) = run(
        doc! { "$push": { "a": { "$each": [], "$slice": 0 } } },
        doc! { "_id": 1, "a": [1] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [] });
}

#[test]
fn push_errors() {
    let (code, _) = apply_error(doc! { "$push": { "a": 1 } }, doc! { "_id": 1, "a": 1 });
    assert_eq!(code, 2);
    assert_eq!(parse_error(doc! { "$push": { "a": { "$each": 1 } } }).0, 2);
    assert_eq!(
        parse_error(doc! { "$push": { "a": { "$each": [1], "$bogus": 1 } } }).0,
        2
    );
    assert_eq!(
        parse_error(doc! { "$push": { "a": { "$each": [1], "$slice": "x" } } }).0,
        2
    );
}

#[test]
fn add_to_set_uses_mongodb_equality() {
    let (doc, _) = run(
        doc! { "$addToSet": { "a": { "$each": [1.0, 3, 3] } } },
        doc! { "_id": 1, "a": [1, 2] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [1, 2, 3] });
    let (doc, _) = run(doc! { "$addToSet": { "a": [1] } }, doc! { "_id": 1 });
    assert_eq!(doc, doc! { "_id": 1, "a": [[1]] });
    let (code, _) = apply_error(
        doc! { "$addToSet": { "a": 1 } },
        doc! { "_id": 1, "a": "s" },
    );
    assert_eq!(code, 2);
}

#[test]
fn pull_by_value_condition_and_query() {
    let (doc, _) = run(
        doc! { "$pull": { "a": 2 } },
        doc! { "_id": 1, "a": [1, 2, 2.0, 3] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [1, 3] });
    let (doc, _) = run(
        doc! { "$pull": { "a": { "$gte": 6 } } },
        doc! { "_id": 1, "a": [5, 6, 7, "z"] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [5, "z"] });
    let (doc, _) = run(
        doc! { "$pull": { "r": { "score": 8, "item": "B" } } },
        doc! { "_id": 1, "r": [{ "item": "A", "score": 8 }, { "item": "B", "score": 8, "x": 1 }, 8] },
    );
    assert_eq!(
        doc,
        doc! { "_id": 1, "r": [{ "item": "A", "score": 8 }, 8] }
    );
    let (doc, _) = run(
        doc! { "$pullAll": { "a": [1, 3] } },
        doc! { "_id": 1, "a": [1, 2, 3, 1] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [2] });
    let (code, _) = apply_error(doc! { "$pull": { "a": 1 } }, doc! { "_id": 1, "a": 1 });
    assert_eq!(code, 2);
}

#[test]
fn pop_first_and_last() {
    let (doc, _) = run(
        doc! { "$pop": { "a": 1, "b": -1 } },
        doc! { "_id": 1, "a": [1, 2], "b": [1, 2] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [1], "b": [2] });
    assert!(!run(doc! { "$pop": { "a": 1 } }, doc! { "_id": 1, "a": [] }).1);
    assert_eq!(parse_error(doc! { "$pop": { "a": 2 } }).0, 9);
    let (code, _) = apply_error(doc! { "$pop": { "a": 1 } }, doc! { "_id": 1, "a": 1 });
    assert_eq!(code, 14);
}

#[test]
fn all_positional_updates_every_element() {
    let (doc, _) = run(
        doc! { "$inc": { "a.$[]": 1 }, "$set": { "r.$[].s": 0 } },
        doc! { "_id": 1, "a": [1, 2], "r": [{ "s": 5 }, { "t": 1 }] },
    );
    assert_eq!(
        doc,
        doc! { "_id": 1, "a": [2, 3], "r": [{ "s": 0 }, { "t": 1, "s": 0 }] }
    );
    let (doc, _) = run(
        doc! { "$set": { "m.$[].$[]": 0 } },
        doc! { "_id": 1, "m": [[1, 2], [3]] },
    );
    assert_eq!(doc, doc! { "_id": 1, "m": [[0, 0], [0]] });
    assert!(!run(doc! { "$set": { "a.$[]": 1 } }, doc! { "_id": 1, "a": [] }).1);
    let (code, _) = apply_error(doc! { "$set": { "a.$[]": 1 } }, doc! { "_id": 1 });
    assert_eq!(code, 2);
    let (code, _) = apply_error(doc! { "$set": { "a.$[]": 1 } }, doc! { "_id": 1, "a": 5 });
    assert_eq!(code, 2);
    assert_eq!(parse_error(doc! { "$rename": { "a.$[]": "b" } }).0, 2);
}

fn run_matching(filter: Document, update: Document, doc: Document) -> Result<Document, i32> {
    let filter = crate::engine::filter::Filter::parse(&filter).expect("valid filter");
    let mut doc = doc;
    Update::parse(&update)
        .expect("valid update")
        .apply_matching(&mut doc, &ctx(), &filter)
        .map(|_| doc)
        .map_err(|e| e.code)
}

#[test]
fn positional_operator_uses_the_matched_element() {
    let d = doc! { "_id": 1, "grades": [80, 85, 90], "m": [{ "r": "a", "n": 1 }, { "r": "b", "n": 2 }] };
    let out = run_matching(
        doc! { "grades": 85 },
        doc! { "$set": { "grades.$": 82 } },
        d.clone(),
    );
    assert_eq!(
        out.expect("applies").get("grades"),
        Some(&bson::bson!([80, 82, 90]))
    );
    let out = run_matching(
        doc! { "m.r": "b" },
        doc! { "$inc": { "m.$.n": 10 } },
        d.clone(),
    );
    assert_eq!(
        out.expect("applies").get("m"),
        Some(&bson::bson!([{ "r": "a", "n": 1 }, { "r": "b", "n": 12 }]))
    );
    let out = run_matching(
        doc! { "m": { "$elemMatch": { "r": "a", "n": { "$lt": 5 } } } },
        doc! { "$set": { "m.$.x": true } },
        d.clone(),
    );
    assert_eq!(
        out.expect("applies").get("m"),
        Some(&bson::bson!([{ "r": "a", "n": 1, "x": true }, { "r": "b", "n": 2 }]))
    );
    let out = run_matching(
        doc! { "grades": { "$gte": 86 } },
        doc! { "$unset": { "grades.$": 1 } },
        d.clone(),
    );
    assert_eq!(
        out.expect("applies").get("grades"),
        Some(&bson::bson!([80, 85, null]))
    );
    assert_eq!(
        run_matching(
            doc! { "_id": 1 },
            doc! { "$set": { "grades.$": 1 } },
            d.clone()
        ),
        Err(2)
    );
    let mut plain = d;
    let err = Update::parse(&doc! { "$set": { "grades.$": 1 } })
        .expect("valid")
        .apply(&mut plain, &ctx())
        .expect_err("no query to match");
    assert_eq!(err.code, 2);
}

fn run_filtered(update: Document, filters: Vec<Document>, doc: Document) -> Result<Document, i32> {
    let mut c = ctx();
    c.array_filters = Some(filters);
    let mut doc = doc;
    Update::parse(&update)
        .expect("valid update")
        .apply(&mut doc, &c)
        .map(|_| doc)
        .map_err(|e| e.code)
}

#[test]
fn array_filters_select_elements() {
    let d = doc! { "_id": 1, "g": [95, 92, 90], "s": [{ "k": "a", "v": 1 }, { "k": "b", "v": 2 }] };
    let out = run_filtered(
        doc! { "$set": { "g.$[hi]": 100 } },
        vec![doc! { "hi": { "$gte": 92 } }],
        d.clone(),
    );
    assert_eq!(
        out.expect("applies").get("g"),
        Some(&bson::bson!([100, 100, 90]))
    );
    let out = run_filtered(
        doc! { "$inc": { "s.$[e].v": 10 } },
        vec![doc! { "e.k": "b" }],
        d.clone(),
    );
    assert_eq!(
        out.expect("applies").get("s"),
        Some(&bson::bson!([{ "k": "a", "v": 1 }, { "k": "b", "v": 12 }]))
    );
    // A filter for an identifier no path uses, a path without a filter,
    // a malformed identifier, and a repeated one.
    let unused = run_filtered(
        doc! { "$set": { "x": 1 } },
        vec![doc! { "e": 1 }],
        d.clone(),
    );
    assert_eq!(unused, Err(9));
    let missing = run_filtered(doc! { "$set": { "g.$[e]": 1 } }, vec![], d.clone());
    assert_eq!(missing, Err(2));
    let bad = run_filtered(
        doc! { "$set": { "g.$[E]": 1 } },
        vec![doc! { "E": 1 }],
        d.clone(),
    );
    assert_eq!(bad, Err(2));
    let twice = run_filtered(
        doc! { "$set": { "g.$[e]": 1 } },
        vec![doc! { "e": 1 }, doc! { "e": 2 }],
        d.clone(),
    );
    assert_eq!(twice, Err(9));
    let update = Update::parse(&doc! { "$set": { "g.$[e]": 1 } }).expect("valid");
    assert!(
        update
            .check_array_filters(&[doc! { "e": { "$gt": 1 } }])
            .is_ok()
    );
    assert_eq!(
        update
            .check_array_filters(&[doc! { "f": 1 }])
            .expect_err("unused")
            .code,
        9
    );
}
