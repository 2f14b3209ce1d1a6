use bson::{Bson, Document, doc};

use super::Filter;

mod arrays;

pub(super) fn matches(filter: Document, doc: Document) -> bool {
    Filter::parse(&filter).expect("valid filter").matches(&doc)
}

pub(super) fn error_code(filter: Document) -> i32 {
    Filter::parse(&filter).expect_err("invalid filter").code
}

#[test]
fn empty_filter_matches_everything() {
    assert!(matches(doc! {}, doc! { "a": 1 }));
}

#[test]
fn equality_matches_scalars_and_array_elements() {
    assert!(matches(doc! { "a": 5 }, doc! { "a": 5 }));
    assert!(matches(doc! { "a": 5 }, doc! { "a": [1, 5] }));
    assert!(!matches(doc! { "a": 5 }, doc! { "a": [[5]] }));
    assert!(!matches(doc! { "a": 5 }, doc! { "a": "5" }));
}

#[test]
fn numeric_equality_crosses_types() {
    assert!(matches(doc! { "a": 1 }, doc! { "a": 1.0 }));
    assert!(matches(doc! { "a": 1.0 }, doc! { "a": 1i64 }));
    assert!(matches(doc! { "a": { "$eq": 1i64 } }, doc! { "a": 1 }));
}

#[test]
fn document_equality_is_field_order_sensitive() {
    assert!(matches(
        doc! { "a": { "b": 1, "c": 2 } },
        doc! { "a": { "b": 1, "c": 2 } }
    ));
    assert!(!matches(
        doc! { "a": { "b": 1, "c": 2 } },
        doc! { "a": { "c": 2, "b": 1 } }
    ));
    assert!(!matches(
        doc! { "a": { "b": 1 } },
        doc! { "a": { "b": 1, "c": 2 } }
    ));
}

#[test]
fn null_matches_missing_and_null() {
    assert!(matches(doc! { "a": null }, doc! { "b": 1 }));
    assert!(matches(doc! { "a": null }, doc! { "a": null }));
    assert!(matches(doc! { "a": null }, doc! { "a": [1, null] }));
    assert!(!matches(doc! { "a": null }, doc! { "a": 0 }));
    assert!(!matches(doc! { "a": null }, doc! { "a": [] }));
    assert!(matches(
        doc! { "a.b": null },
        doc! { "a": [{ "b": 1 }, { "c": 1 }] }
    ));
    assert!(!matches(doc! { "a.b": null }, doc! { "a": [{ "b": 1 }] }));
    // A path through a scalar is missing; through an array of scalars it
    // reaches nothing.
    assert!(matches(doc! { "a.b": null }, doc! { "a": 5 }));
    assert!(!matches(doc! { "a.b": null }, doc! { "a": [1, 2] }));
    assert!(matches(
        doc! { "a.b": { "$exists": false } },
        doc! { "a": [1, 2] }
    ));
}

#[test]
fn ne_null_and_ne_value() {
    assert!(matches(doc! { "a": { "$ne": null } }, doc! { "a": 1 }));
    assert!(!matches(doc! { "a": { "$ne": null } }, doc! { "b": 1 }));
    assert!(!matches(doc! { "a": { "$ne": 5 } }, doc! { "a": [1, 5] }));
    assert!(matches(doc! { "a": { "$ne": 5 } }, doc! { "a": [1, 6] }));
    assert!(matches(doc! { "a": { "$ne": 5 } }, doc! {}));
}

#[test]
fn comparisons_are_type_bracketed() {
    assert!(matches(doc! { "a": { "$gt": 5 } }, doc! { "a": 6.5 }));
    assert!(!matches(doc! { "a": { "$gt": 5 } }, doc! { "a": "6" }));
    assert!(!matches(doc! { "a": { "$lt": "z" } }, doc! { "a": 1 }));
    assert!(matches(doc! { "a": { "$lt": "b" } }, doc! { "a": "a" }));
    assert!(!matches(doc! { "a": { "$gt": 5 } }, doc! {}));
    assert!(!matches(doc! { "a": { "$lt": 5 } }, doc! { "a": null }));
    assert!(matches(doc! { "a": { "$gte": null } }, doc! {}));
    assert!(matches(doc! { "a": { "$lte": null } }, doc! { "a": null }));
    assert!(matches(
        doc! { "a": { "$gt": Bson::MinKey } },
        doc! { "a": "x" }
    ));
    assert!(matches(
        doc! { "a": { "$lt": Bson::MaxKey } },
        doc! { "a": { "b": 1 } }
    ));
}

#[test]
fn comparisons_match_any_array_element() {
    assert!(matches(doc! { "a": { "$gt": 5 } }, doc! { "a": [1, 7] }));
    assert!(!matches(doc! { "a": { "$gt": 5 } }, doc! { "a": [1, 2] }));
    // Each bound may be met by a different element.
    assert!(matches(
        doc! { "a": { "$gt": 5, "$lt": 3 } },
        doc! { "a": [1, 7] }
    ));
}

#[test]
fn range_on_dates() {
    let t = bson::DateTime::from_millis(1_000);
    let filter = doc! { "t": { "$gte": t, "$lt": bson::DateTime::from_millis(2_000) } };
    assert!(matches(filter.clone(), doc! { "t": t }));
    assert!(!matches(filter, doc! { "t": 1_500 }));
}

#[test]
fn in_and_nin() {
    assert!(matches(doc! { "a": { "$in": [1, 2] } }, doc! { "a": 2.0 }));
    assert!(matches(
        doc! { "a": { "$in": [1, 2] } },
        doc! { "a": [3, 2] }
    ));
    assert!(matches(doc! { "a": { "$in": [null] } }, doc! {}));
    assert!(!matches(doc! { "a": { "$in": [] } }, doc! { "a": 1 }));
    let regex = bson::Regex {
        pattern: "^ab".into(),
        options: String::new(),
    };
    assert!(matches(
        doc! { "a": { "$in": [regex] } },
        doc! { "a": "abc" }
    ));
    assert!(matches(doc! { "a": { "$nin": [1, 2] } }, doc! { "a": 3 }));
    assert!(matches(doc! { "a": { "$nin": [1, 2] } }, doc! {}));
    assert!(!matches(
        doc! { "a": { "$nin": [1, 2] } },
        doc! { "a": [3, 1] }
    ));
    assert_eq!(error_code(doc! { "a": { "$in": 1 } }), 2);
}

#[test]
fn exists() {
    assert!(matches(
        doc! { "a": { "$exists": true } },
        doc! { "a": null }
    ));
    assert!(!matches(doc! { "a": { "$exists": true } }, doc! {}));
    assert!(matches(doc! { "a": { "$exists": false } }, doc! {}));
    assert!(matches(
        doc! { "a.b": { "$exists": true } },
        doc! { "a": [{ "c": 1 }, { "b": 1 }] }
    ));
    assert!(!matches(
        doc! { "a.b": { "$exists": true } },
        doc! { "a": [] }
    ));
    assert!(matches(doc! { "a": { "$exists": 1 } }, doc! { "a": [] }));
}

#[test]
fn type_by_name_number_and_number_alias() {
    assert!(matches(
        doc! { "a": { "$type": "string" } },
        doc! { "a": "x" }
    ));
    assert!(matches(doc! { "a": { "$type": 2 } }, doc! { "a": "x" }));
    assert!(matches(
        doc! { "a": { "$type": "number" } },
        doc! { "a": 1i64 }
    ));
    assert!(matches(
        doc! { "a": { "$type": "int" } },
        doc! { "a": [1, "x"] }
    ));
    assert!(matches(
        doc! { "a": { "$type": "array" } },
        doc! { "a": [] }
    ));
    assert!(!matches(doc! { "a": { "$type": "long" } }, doc! { "a": 1 }));
    assert!(matches(
        doc! { "a": { "$type": ["null", "double"] } },
        doc! { "a": null }
    ));
    assert!(matches(
        doc! { "a": { "$type": "minKey" } },
        doc! { "a": Bson::MinKey }
    ));
    assert!(!matches(doc! { "a": { "$type": "null" } }, doc! {}));
    assert_eq!(error_code(doc! { "a": { "$type": "foo" } }), 2);
    assert_eq!(error_code(doc! { "a": { "$type": 99 } }), 2);
}

#[test]
fn logical_operators() {
    let d = doc! { "a": 1, "b": 2 };
    assert!(matches(
        doc! { "$and": [{ "a": 1 }, { "b": 2 }] },
        d.clone()
    ));
    assert!(matches(doc! { "$or": [{ "a": 5 }, { "b": 2 }] }, d.clone()));
    assert!(!matches(
        doc! { "$nor": [{ "a": 5 }, { "b": 2 }] },
        d.clone()
    ));
    assert!(matches(doc! { "$nor": [{ "a": 5 }] }, d.clone()));
    assert!(matches(doc! { "a": { "$not": { "$gt": 3 } } }, d.clone()));
    assert!(matches(doc! { "c": { "$not": { "$gt": 3 } } }, d));
    assert_eq!(error_code(doc! { "$and": [] }), 2);
    assert_eq!(error_code(doc! { "$or": [1] }), 2);
    assert_eq!(error_code(doc! { "$or": {} }), 2);
    assert_eq!(error_code(doc! { "a": { "$not": 1 } }), 2);
    assert_eq!(error_code(doc! { "a": { "$not": {} } }), 2);
}

#[test]
fn regex_operator_and_values() {
    let regex = bson::Regex {
        pattern: "^AB".into(),
        options: "i".into(),
    };
    assert!(matches(doc! { "a": regex.clone() }, doc! { "a": "abc" }));
    assert!(matches(
        doc! { "a": { "$regex": "^ab", "$options": "i" } },
        doc! { "a": "ABC" }
    ));
    assert!(matches(
        doc! { "a": { "$regex": regex.clone() } },
        doc! { "a": ["x", "abd"] }
    ));
    assert!(!matches(
        doc! { "a": { "$regex": "^ab" } },
        doc! { "a": "ABC" }
    ));
    assert!(!matches(doc! { "a": { "$regex": "1" } }, doc! { "a": 1 }));
    assert!(matches(
        doc! { "a": { "$not": regex.clone() } },
        doc! { "a": "xyz" }
    ));
    // `$eq` with a regex compares regex values, it does not pattern-match.
    assert!(!matches(
        doc! { "a": { "$eq": regex.clone() } },
        doc! { "a": "abc" }
    ));
    assert!(matches(
        doc! { "a": { "$eq": regex.clone() } },
        doc! { "a": regex }
    ));
    assert!(matches(
        doc! { "a": { "$regex": "^a.c$", "$options": "s" } },
        doc! { "a": "a\nc" }
    ));
    assert_eq!(error_code(doc! { "a": { "$options": "i" } }), 2);
    assert_eq!(error_code(doc! { "a": { "$regex": "(?<=a)b" } }), 51091);
    assert_eq!(
        error_code(doc! { "a": { "$regex": "a", "$options": "q" } }),
        51108
    );
}

#[test]
fn mod_operator() {
    assert!(matches(doc! { "a": { "$mod": [4, 1] } }, doc! { "a": 9 }));
    assert!(matches(doc! { "a": { "$mod": [4, 1] } }, doc! { "a": 9.7 }));
    assert!(!matches(
        doc! { "a": { "$mod": [4, 1] } },
        doc! { "a": "9" }
    ));
    assert_eq!(error_code(doc! { "a": { "$mod": [0, 1] } }), 2);
    assert_eq!(error_code(doc! { "a": { "$mod": [1] } }), 2);
}

#[test]
fn comment_is_ignored_and_unknown_operators_refused() {
    assert!(matches(doc! { "a": 1, "$comment": "why" }, doc! { "a": 1 }));
    let err = Filter::parse(&doc! { "a": { "$foo": 1 } }).expect_err("unknown");
    assert_eq!(
        (err.code, err.message.as_str()),
        (2, "unknown operator: $foo")
    );
    assert_eq!(error_code(doc! { "$foo": 1 }), 2);
    assert_eq!(error_code(doc! { "$where": "1" }), 238);
    assert_eq!(error_code(doc! { "$expr": { "$bogus": 1 } }), 168);
    assert_eq!(error_code(doc! { "a": { "$near": [0, 0] } }), 238);
}

#[test]
fn literal_documents_with_dollar_ref_are_equality() {
    let dbref = doc! { "$ref": "c", "$id": 1 };
    assert!(matches(doc! { "a": dbref.clone() }, doc! { "a": dbref }));
}

#[test]
fn equality_fields_seed_upserts() {
    let filter = Filter::parse(&doc! {
        "_id": 7,
        "a.b": 1,
        "c": { "$eq": "x" },
        "d": { "$gt": 1 },
        "$and": [{ "e": true }, { "f": { "$in": [1, 2] } }, { "a.b": 2 }],
        "$or": [{ "g": 1 }],
        "h": bson::Regex { pattern: "x".into(), options: String::new() },
        "i": { "$in": ["only"] },
    })
    .expect("valid");
    assert_eq!(
        filter.equality_fields(),
        doc! { "_id": 7, "a": { "b": 1 }, "c": "x", "e": true, "i": "only" }
    );
}

#[test]
fn expr_compares_fields() {
    let filter = doc! { "$expr": { "$gt": ["$spent", "$budget"] } };
    assert!(matches(filter.clone(), doc! { "spent": 10, "budget": 5 }));
    assert!(!matches(filter, doc! { "spent": 1, "budget": 5 }));
    // Evaluation errors do not match.
    assert!(!matches(doc! { "$expr": { "$divide": [1, 0] } }, doc! {}));
}
