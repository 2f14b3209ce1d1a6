use bson::{Bson, Document, doc};

use super::run;

fn docs() -> Vec<Document> {
    vec![
        doc! { "_id": 1, "cat": "a", "n": 1, "tags": ["x", "y"] },
        doc! { "_id": 2, "cat": "b", "n": 2.5, "tags": [] },
        doc! { "_id": 3, "cat": "a", "n": 3i64, "tags": "z" },
        doc! { "_id": 4, "n": "text" },
    ]
}

fn pipeline(stages: Vec<Document>) -> Vec<Document> {
    run(docs(), &stages).expect("pipeline runs")
}

fn error_code(stages: Vec<Document>) -> i32 {
    run(docs(), &stages).expect_err("pipeline fails").code
}

#[test]
fn match_sort_skip_limit() {
    let out = pipeline(vec![
        doc! { "$match": { "n": { "$type": "number" } } },
        doc! { "$sort": { "n": -1 } },
        doc! { "$skip": 1 },
        doc! { "$limit": 1 },
    ]);
    assert_eq!(out, vec![docs()[1].clone()]);
}

#[test]
fn group_with_accumulators() {
    let out = pipeline(vec![
        doc! { "$group": {
            "_id": "$cat",
            "total": { "$sum": "$n" },
            "count": { "$sum": 1 },
            "cnt": { "$count": {} },
            "avg": { "$avg": "$n" },
            "min": { "$min": "$n" },
            "max": { "$max": "$n" },
            "first": { "$first": "$_id" },
            "last": { "$last": "$_id" },
            "ids": { "$push": "$_id" },
            "cats": { "$addToSet": "$cat" },
        } },
        doc! { "$sort": { "_id": 1 } },
    ]);
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[0],
        doc! { "_id": null, "total": 0, "count": 1, "cnt": 1, "avg": null, "min": "text",
        "max": "text", "first": 4, "last": 4, "ids": [4], "cats": [] }
    );
    assert_eq!(
        out[1],
        doc! { "_id": "a", "total": 4i64, "count": 2, "cnt": 2, "avg": 2.0, "min": 1, "max": 3i64,
        "first": 1, "last": 3, "ids": [1, 3], "cats": ["a"] }
    );
    assert_eq!(out[2].get("total"), Some(&Bson::Double(2.5)));
}

#[test]
fn group_keys_use_mongodb_equality() {
    let input = vec![
        doc! { "k": 1 },
        doc! { "k": 1.0 },
        doc! { "k": { "a": 1 } },
        doc! { "k": { "a": 1 } },
    ];
    let out = run(
        input,
        &[doc! { "$group": { "_id": "$k", "c": { "$sum": 1 } } }],
    )
    .expect("runs");
    assert_eq!(
        out,
        vec![
            doc! { "_id": 1, "c": 2 },
            doc! { "_id": { "a": 1 }, "c": 2 }
        ]
    );
    let out = pipeline(vec![doc! { "$group": { "_id": null, "c": { "$sum": 1 } } }]);
    assert_eq!(out, vec![doc! { "_id": null, "c": 4 }]);
}

#[test]
fn group_errors() {
    assert_eq!(
        error_code(vec![doc! { "$group": { "c": { "$sum": 1 } } }]),
        15955
    );
    assert_eq!(
        error_code(vec![doc! { "$group": { "_id": 1, "c": { "$bogus": 1 } } }]),
        15952
    );
    assert_eq!(
        error_code(vec![doc! { "$group": { "_id": 1, "a.b": { "$sum": 1 } } }]),
        40235
    );
    assert_eq!(
        error_code(vec![
            doc! { "$group": { "_id": 1, "c": { "$stdDevPop": "$n" } } }
        ]),
        238
    );
}

#[test]
fn count_stage() {
    assert_eq!(
        pipeline(vec![doc! { "$count": "total" }]),
        vec![doc! { "total": 4 }]
    );
    assert!(
        pipeline(vec![
            doc! { "$match": { "none": 1 } },
            doc! { "$count": "total" }
        ])
        .is_empty()
    );
    assert_eq!(error_code(vec![doc! { "$count": "$x" }]), 40158);
}

#[test]
fn project_add_fields_and_unset() {
    let out = pipeline(vec![
        doc! { "$match": { "_id": 1 } },
        doc! { "$project": { "cat": 1, "double": { "$multiply": ["$n", 2] } } },
        doc! { "$addFields": { "x.y": "$cat", "cat": "$$REMOVE" } },
        doc! { "$set": { "z": { "$literal": 1 } } },
        doc! { "$unset": ["double"] },
    ]);
    assert_eq!(out, vec![doc! { "_id": 1, "x": { "y": "a" }, "z": 1 }]);
}

#[test]
fn unwind_forms() {
    let short = pipeline(vec![
        doc! { "$unwind": "$tags" },
        doc! { "$project": { "tags": 1 } },
    ]);
    assert_eq!(
        short,
        vec![
            doc! { "_id": 1, "tags": "x" },
            doc! { "_id": 1, "tags": "y" },
            doc! { "_id": 3, "tags": "z" },
        ]
    );
    let long = pipeline(vec![
        doc! { "$unwind": { "path": "$tags", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true } },
        doc! { "$project": { "tags": 1, "i": 1 } },
    ]);
    assert_eq!(
        long,
        vec![
            doc! { "_id": 1, "tags": "x", "i": 0i64 },
            doc! { "_id": 1, "tags": "y", "i": 1i64 },
            doc! { "_id": 2, "tags": [], "i": null },
            doc! { "_id": 3, "tags": "z", "i": null },
            doc! { "_id": 4, "i": null },
        ]
    );
    assert_eq!(error_code(vec![doc! { "$unwind": "tags" }]), 28808);
}

#[test]
fn facet_sort_by_count_and_replace_root() {
    let out = pipeline(vec![doc! { "$facet": {
        "n": [{ "$count": "c" }],
        "cats": [{ "$sortByCount": "$cat" }],
    } }]);
    assert_eq!(
        out,
        vec![doc! {
            "n": [{ "c": 4 }],
            "cats": [{ "_id": "a", "count": 2 }, { "_id": "b", "count": 1 }, { "_id": null, "count": 1 }],
        }]
    );
    let out = pipeline(vec![
        doc! { "$match": { "_id": 2 } },
        doc! { "$replaceRoot": { "newRoot": { "c": "$cat" } } },
    ]);
    assert_eq!(out, vec![doc! { "c": "b" }]);
    let out = pipeline(vec![
        doc! { "$match": { "_id": 1 } },
        doc! { "$replaceWith": { "id": "$_id" } },
    ]);
    assert_eq!(out, vec![doc! { "id": 1 }]);
    assert_eq!(
        error_code(vec![doc! { "$replaceRoot": { "newRoot": "$n" } }]),
        40228
    );
    assert_eq!(
        error_code(vec![
            doc! { "$facet": { "a": [{ "$facet": { "b": [] } }] } }
        ]),
        40600
    );
}

#[test]
fn stage_errors() {
    assert_eq!(error_code(vec![doc! { "$bogus": {} }]), 40324);
    assert_eq!(error_code(vec![doc! { "$lookup": {} }]), 238);
    assert_eq!(error_code(vec![doc! { "$match": {}, "$limit": 1 }]), 40323);
    assert_eq!(error_code(vec![doc! { "$limit": 0 }]), 15958);
    assert_eq!(error_code(vec![doc! { "$skip": -1 }]), 15956);
    assert_eq!(error_code(vec![doc! { "$sort": {} }]), 15976);
    assert_eq!(error_code(vec![doc! { "$match": { "$bogus": 1 } }]), 2);
    assert_eq!(
        error_code(vec![doc! { "$project": { "x": { "$bogus": 1 } } }]),
        168
    );
}

#[test]
fn errors_come_before_any_work() {
    // The bad stage is last, and the pipeline still fails as a whole.
    assert_eq!(
        error_code(vec![doc! { "$match": {} }, doc! { "$bogus": 1 }]),
        40324
    );
}

#[test]
fn add_fields_merges_nested_specs_and_maps_over_arrays() {
    let input = vec![doc! { "_id": 1, "a": { "c": 1 }, "r": [{ "x": 1 }, { "x": 2 }] }];
    let out = run(
        input,
        &[doc! { "$addFields": { "a": { "b": "$_id" }, "r.y": 0 } }],
    )
    .expect("runs");
    assert_eq!(
        out,
        vec![
            doc! { "_id": 1, "a": { "c": 1, "b": 1 }, "r": [{ "x": 1, "y": 0 }, { "x": 2, "y": 0 }] }
        ]
    );
}
