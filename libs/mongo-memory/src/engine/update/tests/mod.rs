use bson::{Bson, Document, doc};

use super::{Update, UpdateContext};

mod arrays;

pub(super) fn ctx() -> UpdateContext {
    UpdateContext::new(bson::DateTime::from_millis(1_700_000_000_000))
}

/// Applies an update and returns the new document and `changed`.
pub(super) fn run(update: Document, doc: Document) -> (Document, bool) {
    let mut doc = doc;
    let changed = Update::parse(&update)
        .expect("valid update")
        .apply(&mut doc, &ctx())
        .expect("update applies");
    (doc, changed)
}

pub(super) fn parse_error(update: Document) -> (i32, String) {
    let err = Update::parse(&update).expect_err("invalid update");
    (err.code, err.message)
}

pub(super) fn apply_error(update: Document, doc: Document) -> (i32, Document) {
    let mut doc = doc;
    let err = Update::parse(&update)
        .expect("valid update")
        .apply(&mut doc, &ctx())
        .expect_err("update fails");
    (err.code, doc)
}

#[test]
fn set_updates_in_place_and_appends_new_fields() {
    let (doc, changed) = run(
        doc! { "$set": { "a": 5, "z": 1 } },
        doc! { "_id": 1, "a": 1, "b": 2 },
    );
    assert!(changed);
    assert_eq!(doc, doc! { "_id": 1, "a": 5, "b": 2, "z": 1 });
    assert_eq!(doc.keys().collect::<Vec<_>>(), ["_id", "a", "b", "z"]);
}

#[test]
fn new_fields_are_added_in_field_name_order() {
    let (doc, _) = run(
        doc! { "$set": { "c": 1, "b": 1 }, "$inc": { "a": 1 } },
        doc! { "_id": 1 },
    );
    assert_eq!(doc.keys().collect::<Vec<_>>(), ["_id", "a", "b", "c"]);
}

#[test]
fn set_creates_intermediate_documents_and_pads_arrays() {
    let (doc, _) = run(doc! { "$set": { "a.b.c": 1 } }, doc! { "_id": 1 });
    assert_eq!(doc, doc! { "_id": 1, "a": { "b": { "c": 1 } } });
    let (doc, _) = run(doc! { "$set": { "a.3": 9 } }, doc! { "_id": 1, "a": [1] });
    assert_eq!(doc, doc! { "_id": 1, "a": [1, null, null, 9] });
    let (doc, _) = run(
        doc! { "$set": { "a.1.b": 9 } },
        doc! { "_id": 1, "a": [{ "b": 1 }, { "b": 2 }] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [{ "b": 1 }, { "b": 9 }] });
    let (doc, _) = run(doc! { "$set": { "a.0": 1 } }, doc! { "_id": 1 });
    assert_eq!(doc, doc! { "_id": 1, "a": { "0": 1 } });
}

#[test]
fn set_through_a_scalar_is_not_viable() {
    let (code, doc) = apply_error(doc! { "$set": { "a.b": 1 } }, doc! { "_id": 1, "a": 5 });
    assert_eq!(code, 28);
    assert_eq!(
        doc,
        doc! { "_id": 1, "a": 5 },
        "a failed update leaves the document alone"
    );
    let (code, _) = apply_error(doc! { "$set": { "a.b": 1 } }, doc! { "_id": 1, "a": [1] });
    assert_eq!(code, 28);
}

#[test]
fn no_op_updates_report_unchanged() {
    let original = doc! { "_id": 1, "a": 1, "b": [1, 2] };
    assert!(!run(doc! { "$set": { "a": 1 } }, original.clone()).1);
    assert!(!run(doc! { "$unset": { "zz": "" } }, original.clone()).1);
    assert!(!run(doc! { "$addToSet": { "b": 2 } }, original.clone()).1);
    assert!(!run(doc! { "$pull": { "b": 7 } }, original.clone()).1);
    assert!(!run(doc! { "$max": { "a": 0 } }, original.clone()).1);
    assert!(!run(doc! { "$setOnInsert": { "c": 1 } }, original.clone()).1);
    assert!(!run(doc! { "$set": {} }, original.clone()).1);
    // Same value, different type: the stored bytes change.
    assert!(run(doc! { "$set": { "a": 1.0 } }, original).1);
}

#[test]
fn unset_removes_fields_and_nulls_array_elements() {
    let (doc, changed) = run(
        doc! { "$unset": { "a": 1, "c.d": "" } },
        doc! { "_id": 1, "a": 1, "b": 2, "c": { "d": 1, "e": 2 } },
    );
    assert!(changed);
    assert_eq!(doc, doc! { "_id": 1, "b": 2, "c": { "e": 2 } });
    let (doc, _) = run(
        doc! { "$unset": { "a.1": 1 } },
        doc! { "_id": 1, "a": [1, 2, 3] },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": [1, null, 3] });
}

#[test]
fn inc_keeps_and_promotes_number_types() {
    let (doc, _) = run(
        doc! { "$inc": { "a": 1, "b": 1, "c": 1.5, "d": 2i64, "e": 3 } },
        doc! { "_id": 1, "a": 1, "b": i32::MAX, "c": 1, "d": 1 },
    );
    assert_eq!(
        doc,
        doc! { "_id": 1, "a": 2, "b": i64::from(i32::MAX) + 1, "c": 2.5, "d": 3i64, "e": 3 }
    );
    let (doc, _) = run(doc! { "$inc": { "a": -1 } }, doc! { "_id": 1, "a": 1i64 });
    assert_eq!(doc.get("a"), Some(&Bson::Int64(0)));
}

#[test]
fn inc_refuses_non_numbers_and_overflow() {
    let (code, _) = apply_error(doc! { "$inc": { "a": 1 } }, doc! { "_id": 1, "a": "x" });
    assert_eq!(code, 14);
    assert_eq!(parse_error(doc! { "$inc": { "a": "1" } }).0, 14);
    let (code, _) = apply_error(
        doc! { "$inc": { "a": 1 } },
        doc! { "_id": 1, "a": i64::MAX },
    );
    assert_eq!(code, 2);
}

#[test]
fn mul_types_and_missing_fields() {
    let (doc, _) = run(
        doc! { "$mul": { "a": 2, "b": 2.5, "m": 5i64, "n": 1.5 } },
        doc! { "_id": 1, "a": 65_536 * 16_384, "b": 2 },
    );
    assert_eq!(
        doc,
        doc! { "_id": 1, "a": 2_147_483_648i64, "b": 5.0, "m": 0i64, "n": 0.0 }
    );
}

#[test]
fn min_and_max_compare_across_types() {
    let (doc, _) = run(
        doc! { "$min": { "a": 1, "c": 1 }, "$max": { "b": 10.5 } },
        doc! { "_id": 1, "a": 2i64, "b": 10 },
    );
    assert_eq!(doc, doc! { "_id": 1, "a": 1, "b": 10.5, "c": 1 });
    // Type order: any string is greater than any number.
    let (doc, _) = run(doc! { "$max": { "a": "x" } }, doc! { "_id": 1, "a": 100 });
    assert_eq!(doc.get("a"), Some(&Bson::String("x".into())));
}

#[test]
fn set_on_insert_only_on_upsert_inserts() {
    let update = Update::parse(&doc! { "$setOnInsert": { "created": 1 }, "$set": { "a": 1 } })
        .expect("valid");
    let mut inserted = doc! { "_id": 1 };
    let mut c = ctx();
    c.is_upsert_insert = true;
    update.apply(&mut inserted, &c).expect("applies");
    assert_eq!(inserted, doc! { "_id": 1, "a": 1, "created": 1 });
}

#[test]
fn current_date_as_date_or_timestamp() {
    let (doc, _) = run(
        doc! { "$currentDate": { "d": true, "t": { "$type": "timestamp" }, "e": { "$type": "date" } } },
        doc! { "_id": 1 },
    );
    let now = bson::DateTime::from_millis(1_700_000_000_000);
    assert_eq!(doc.get("d"), Some(&Bson::DateTime(now)));
    assert_eq!(doc.get("e"), Some(&Bson::DateTime(now)));
    assert!(matches!(doc.get("t"), Some(Bson::Timestamp(t)) if t.time == 1_700_000_000));
    assert_eq!(
        parse_error(doc! { "$currentDate": { "d": { "$type": "x" } } }).0,
        2
    );
    assert_eq!(parse_error(doc! { "$currentDate": { "d": 1 } }).0, 2);
}

#[test]
fn rename_moves_values() {
    let (doc, _) = run(
        doc! { "$rename": { "a": "z", "b.c": "d" } },
        doc! { "_id": 1, "a": 1, "b": { "c": 2 }, "x": 3 },
    );
    assert_eq!(doc, doc! { "_id": 1, "b": {}, "x": 3, "z": 1, "d": 2 });
    assert!(!run(doc! { "$rename": { "missing": "z" } }, doc! { "_id": 1 }).1);
    let (doc, _) = run(
        doc! { "$rename": { "b": "a" } },
        doc! { "_id": 1, "a": 1, "b": 2, "c": 3 },
    );
    assert_eq!(doc.keys().collect::<Vec<_>>(), ["_id", "c", "a"]);
    assert_eq!(doc.get("a"), Some(&Bson::Int32(2)));
    assert_eq!(parse_error(doc! { "$rename": { "a": "a" } }).0, 2);
    assert_eq!(parse_error(doc! { "$rename": { "a": "a.b" } }).0, 2);
    assert_eq!(parse_error(doc! { "$rename": { "a": 1 } }).0, 2);
    let (code, _) = apply_error(
        doc! { "$rename": { "a.0": "b" } },
        doc! { "_id": 1, "a": [1] },
    );
    assert_eq!(code, 2);
}

#[test]
fn id_is_immutable() {
    let (code, _) = apply_error(doc! { "$set": { "_id": 2 } }, doc! { "_id": 1 });
    assert_eq!(code, 66);
    let (code, _) = apply_error(doc! { "$unset": { "_id": 1 } }, doc! { "_id": 1 });
    assert_eq!(code, 66);
    let (code, _) = apply_error(doc! { "$set": { "_id.a": 2 } }, doc! { "_id": { "a": 1 } });
    assert_eq!(code, 66);
    assert!(!run(doc! { "$set": { "_id": 1 } }, doc! { "_id": 1 }).1);
    let err = Update::parse(&doc! { "$set": { "_id": 2 } })
        .expect("valid")
        .apply(&mut doc! { "_id": 1 }, &ctx())
        .expect_err("immutable");
    assert_eq!(err.code_name, "ImmutableField");
    assert_eq!(
        err.message,
        "Performing an update on the path '_id' would modify the immutable field '_id'"
    );
}

#[test]
fn conflicting_paths_are_refused() {
    let (code, message) = parse_error(doc! { "$set": { "a": 1 }, "$inc": { "a": 1 } });
    assert_eq!(code, 40);
    assert_eq!(
        message,
        "Updating the path 'a' would create a conflict at 'a'"
    );
    assert_eq!(
        parse_error(doc! { "$set": { "a.b": 1 }, "$unset": { "a": 1 } }).0,
        40
    );
    assert_eq!(
        parse_error(doc! { "$set": { "a": 1 }, "$rename": { "b": "a" } }).0,
        40
    );
    assert!(Update::parse(&doc! { "$set": { "a.b": 1, "a.c": 1, "ab": 1 } }).is_ok());
}

#[test]
fn malformed_operator_documents() {
    assert_eq!(parse_error(doc! { "$set": 1 }).0, 9);
    assert_eq!(parse_error(doc! { "$foo": { "a": 1 } }).0, 9);
    assert_eq!(parse_error(doc! { "$set": { "a": 1 }, "b": 2 }).0, 9);
    assert_eq!(parse_error(doc! { "$set": { "a..b": 1 } }).0, 56);
    assert_eq!(parse_error(doc! { "$set": { "a.$.b.$": 1 } }).0, 2);
    assert_eq!(parse_error(doc! { "$set": { "$.a": 1 } }).0, 238);
    assert_eq!(parse_error(doc! { "$bit": { "a": { "and": 1 } } }).0, 238);
    assert_eq!(parse_error(doc! { "a": 1, "$set": { "b": 1 } }).0, 52);
    let pipeline = Bson::Array(vec![Bson::Document(doc! { "$set": { "a": 1 } })]);
    assert_eq!(
        Update::parse_bson(&pipeline).expect_err("pipeline").code,
        238
    );
}

#[test]
fn replacement_keeps_the_original_id_first() {
    let (doc, changed) = run(doc! { "b": 2, "c": 3 }, doc! { "_id": 1, "a": 1 });
    assert!(changed);
    assert_eq!(doc.keys().collect::<Vec<_>>(), ["_id", "b", "c"]);
    let (doc, _) = run(doc! { "x": 1, "_id": 1 }, doc! { "_id": 1 });
    assert_eq!(doc.keys().collect::<Vec<_>>(), ["_id", "x"]);
    assert!(!run(doc! { "a": 1 }, doc! { "_id": 1, "a": 1 }).1);
    let (code, _) = apply_error(doc! { "_id": 2 }, doc! { "_id": 1 });
    assert_eq!(code, 66);
    let (doc, _) = run(doc! {}, doc! { "_id": 1, "a": 1 });
    assert_eq!(doc, doc! { "_id": 1 });
}

#[test]
fn conflict_messages_name_the_later_path() {
    let (_, message) = parse_error(doc! { "$set": { "a.b": 1 }, "$unset": { "a": 1 } });
    assert_eq!(
        message,
        "Updating the path 'a' would create a conflict at 'a'"
    );
    let (_, message) = parse_error(doc! { "$set": { "a": 1 }, "$unset": { "a.b": 1 } });
    assert_eq!(
        message,
        "Updating the path 'a.b' would create a conflict at 'a'"
    );
}
