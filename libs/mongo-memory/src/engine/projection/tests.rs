use bson::{Document, doc};

use super::Projection;

fn project(spec: Document, doc: Document) -> Document {
    Projection::parse(&spec)
        .expect("valid projection")
        .apply(&doc)
        .expect("applies")
}

fn parse_error(spec: Document) -> i32 {
    Projection::parse(&spec)
        .expect_err("invalid projection")
        .code
}

#[test]
fn empty_projection_returns_everything() {
    let d = doc! { "_id": 1, "a": 1 };
    assert_eq!(project(doc! {}, d.clone()), d);
}

#[test]
fn inclusion_keeps_id_and_document_order() {
    let d = doc! { "_id": 1, "a": 1, "b": 2, "c": 3 };
    let out = project(doc! { "c": 1, "a": true }, d.clone());
    assert_eq!(out, doc! { "_id": 1, "a": 1, "c": 3 });
    assert_eq!(out.keys().collect::<Vec<_>>(), ["_id", "a", "c"]);
    assert_eq!(
        project(doc! { "a": 1, "_id": 0 }, d.clone()),
        doc! { "a": 1 }
    );
    assert_eq!(project(doc! { "_id": 1 }, d.clone()), doc! { "_id": 1 });
    assert_eq!(project(doc! { "missing": 1 }, d), doc! { "_id": 1 });
}

#[test]
fn exclusion_removes_fields() {
    let d = doc! { "_id": 1, "a": 1, "b": { "c": 1, "d": 2 } };
    assert_eq!(
        project(doc! { "a": 0 }, d.clone()),
        doc! { "_id": 1, "b": { "c": 1, "d": 2 } }
    );
    assert_eq!(
        project(doc! { "_id": 0 }, d.clone()),
        doc! { "a": 1, "b": { "c": 1, "d": 2 } }
    );
    assert_eq!(
        project(doc! { "b.c": 0, "_id": false }, d),
        doc! { "a": 1, "b": { "d": 2 } }
    );
}

#[test]
fn dotted_inclusion_through_documents_and_arrays() {
    let d = doc! { "_id": 1, "a": { "b": 1, "c": 2 }, "r": [{ "x": 1, "y": 2 }, { "y": 3 }, 7] };
    assert_eq!(
        project(doc! { "a.b": 1, "_id": 0 }, d.clone()),
        doc! { "a": { "b": 1 } }
    );
    assert_eq!(
        project(doc! { "a": { "c": 1 }, "_id": 0 }, d.clone()),
        doc! { "a": { "c": 2 } }
    );
    assert_eq!(
        project(doc! { "r.x": 1, "_id": 0 }, d.clone()),
        doc! { "r": [{ "x": 1 }, {}] }
    );
    assert_eq!(
        project(doc! { "r.x": 0, "a": 0 }, d),
        doc! { "_id": 1, "r": [{ "y": 2 }, { "y": 3 }, 7] }
    );
}

#[test]
fn mixing_inclusion_and_exclusion_is_refused() {
    assert_eq!(parse_error(doc! { "a": 1, "b": 0 }), 31253);
    assert_eq!(parse_error(doc! { "a": 0, "b": 1 }), 31254);
    assert_eq!(parse_error(doc! { "a": 1, "a.b": 1 }), 31249);
    assert_eq!(parse_error(doc! { "a.$": 1 }), 238);
    assert_eq!(parse_error(doc! { "$a": 1 }), 16410);
}

#[test]
fn slice_and_elem_match() {
    let d =
        doc! { "_id": 1, "a": [1, 2, 3, 4, 5], "b": 1, "r": [{ "s": 1 }, { "s": 5 }, { "s": 6 }] };
    assert_eq!(
        project(doc! { "a": { "$slice": 2 }, "b": 0, "r": 0 }, d.clone()),
        doc! { "_id": 1, "a": [1, 2] }
    );
    // `$slice` alone keeps every other field.
    let sliced = project(doc! { "a": { "$slice": 1 } }, d.clone());
    assert_eq!(sliced.keys().collect::<Vec<_>>(), ["_id", "a", "b", "r"]);
    assert_eq!(sliced.get("a"), Some(&bson::bson!([1])));
    assert_eq!(
        project(doc! { "a": { "$slice": -2 }, "b": 1, "_id": 0 }, d.clone()),
        doc! { "a": [4, 5], "b": 1 }
    );
    assert_eq!(
        project(
            doc! { "a": { "$slice": [1, 2] }, "_id": 0, "b": 1 },
            d.clone()
        ),
        doc! { "a": [2, 3], "b": 1 }
    );
    assert_eq!(
        project(
            doc! { "a": { "$slice": [-2, 5] }, "_id": 0, "b": 1 },
            d.clone()
        ),
        doc! { "a": [4, 5], "b": 1 }
    );
    assert_eq!(
        project(
            doc! { "r": { "$elemMatch": { "s": { "$gt": 2 } } } },
            d.clone()
        ),
        doc! { "_id": 1, "r": [{ "s": 5 }] }
    );
    assert_eq!(
        project(doc! { "r": { "$elemMatch": { "s": 9 } } }, d),
        doc! { "_id": 1 }
    );
}

#[test]
fn computed_fields_use_expressions() {
    let d = doc! { "_id": 1, "a": 2, "b": { "c": 3 } };
    assert_eq!(
        project(
            doc! { "x": "$b.c", "y": { "$add": ["$a", 1] }, "z": "lit", "a": 1 },
            d.clone()
        ),
        doc! { "_id": 1, "a": 2, "x": 3, "y": 3, "z": "lit" }
    );
    assert_eq!(
        project(doc! { "x": "$missing" }, d.clone()),
        doc! { "_id": 1 }
    );
    assert_eq!(
        project(doc! { "_id": "$a", "b": 1 }, d),
        doc! { "_id": 2, "b": { "c": 3 } }
    );
}

#[test]
fn aggregate_projection_rules() {
    let err = Projection::parse_aggregate(&doc! {}).expect_err("empty");
    assert_eq!(err.code, 51272);
    let p = Projection::parse_aggregate(&doc! { "a": { "$slice": ["$a", 1] } })
        .expect_err("expression $slice");
    assert_eq!(p.code, 238);
    let p = Projection::exclusion(&["a".into(), "b.c".into()]).expect("valid");
    assert_eq!(
        p.apply(&doc! { "_id": 1, "a": 1, "b": { "c": 1, "d": 1 } })
            .expect("applies"),
        doc! { "_id": 1, "b": { "d": 1 } }
    );
}
