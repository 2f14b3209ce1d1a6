//! `update`: operators, `nModified` on no-ops, upsert seeding, `_id` immutability.

use mongodb::bson::{Bson, Document, doc};
use mongodb::options::UpdateModifications;

use crate::target::{Target, error_code};

async fn one(coll: &mongodb::Collection<Document>, id: i32) -> Document {
    coll.find_one(doc! { "_id": id })
        .await
        .expect("find")
        .expect("document exists")
}

#[tokio::test]
async fn set_unset_inc_mul_min_max_rename() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(
        doc! { "_id": 1, "a": 1, "b": 2_i64, "c": 2.5, "lo": 5, "hi": 5, "old": "x", "gone": true },
    )
    .await
    .expect("insert");
    let update = doc! {
        "$set": { "s.t": "deep" },
        "$unset": { "gone": "" },
        "$inc": { "a": 2, "b": 1 },
        "$mul": { "c": 2 },
        "$min": { "lo": 3 },
        "$max": { "hi": 9 },
        "$rename": { "old": "new" },
    };
    let result = coll
        .update_one(doc! { "_id": 1 }, update)
        .await
        .expect("update");
    assert_eq!((result.matched_count, result.modified_count), (1, 1));
    let stored = one(&coll, 1).await;
    assert_eq!(stored.get("a"), Some(&Bson::Int32(3)));
    assert_eq!(stored.get("b"), Some(&Bson::Int64(3)), "int64 stays int64");
    assert_eq!(stored.get("c"), Some(&Bson::Double(5.0)));
    assert_eq!(stored.get("lo"), Some(&Bson::Int32(3)));
    assert_eq!(stored.get("hi"), Some(&Bson::Int32(9)));
    assert_eq!(stored.get("new"), Some(&Bson::String("x".into())));
    assert!(!stored.contains_key("old") && !stored.contains_key("gone"));
    assert_eq!(
        stored.get_document("s").and_then(|s| s.get_str("t")),
        Ok("deep")
    );
}

#[tokio::test]
async fn inc_with_a_double_promotes_an_int() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1, "n": 1 })
        .await
        .expect("insert");
    coll.update_one(doc! { "_id": 1 }, doc! { "$inc": { "n": 0.5 } })
        .await
        .expect("update");
    assert_eq!(one(&coll, 1).await.get("n"), Some(&Bson::Double(1.5)));
}

#[tokio::test]
async fn a_no_op_update_matches_but_does_not_modify() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1, "a": 1 })
        .await
        .expect("insert");
    let result = coll
        .update_one(doc! { "_id": 1 }, doc! { "$set": { "a": 1 } })
        .await
        .expect("update");
    assert_eq!((result.matched_count, result.modified_count), (1, 0));
    let missing = coll
        .update_one(doc! { "_id": 2 }, doc! { "$set": { "a": 1 } })
        .await
        .expect("update");
    assert_eq!((missing.matched_count, missing.modified_count), (0, 0));
}

#[tokio::test]
async fn update_many_counts_matched_and_modified_separately() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_many(vec![
        doc! { "_id": 1, "a": 1 },
        doc! { "_id": 2, "a": 2 },
        doc! { "_id": 3, "a": 1 },
    ])
    .await
    .expect("insert");
    let result = coll
        .update_many(doc! {}, doc! { "$set": { "a": 1 } })
        .await
        .expect("update");
    assert_eq!((result.matched_count, result.modified_count), (3, 1));
}

#[tokio::test]
async fn upsert_seeds_from_equality_fields_and_applies_set_on_insert() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let filter = doc! { "tenant": "t1", "day.n": 5, "count": { "$lt": 10 } };
    let update = doc! { "$inc": { "count": 1 }, "$setOnInsert": { "created": true } };
    let first = coll
        .update_one(filter.clone(), update.clone())
        .upsert(true)
        .await
        .expect("upsert");
    assert_eq!((first.matched_count, first.modified_count), (0, 0));
    let id = first.upserted_id.expect("upserted id");
    assert!(matches!(id, Bson::ObjectId(_)));
    let mut stored = coll
        .find_one(doc! { "_id": &id })
        .await
        .expect("find")
        .expect("created");
    stored.remove("_id");
    assert_eq!(
        stored,
        doc! { "tenant": "t1", "day": { "n": 5 }, "count": 1, "created": true }
    );
    let second = coll
        .update_one(filter, update)
        .upsert(true)
        .await
        .expect("second upsert is an update");
    assert_eq!(
        (
            second.matched_count,
            second.modified_count,
            second.upserted_id
        ),
        (1, 1, None)
    );
    let stored = coll
        .find_one(doc! { "_id": &id })
        .await
        .expect("find")
        .expect("still there");
    assert_eq!(stored.get("count"), Some(&Bson::Int32(2)));
}

#[tokio::test]
async fn upsert_takes_the_id_from_the_filter() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let result = coll
        .update_one(doc! { "_id": "fixed" }, doc! { "$set": { "v": 1 } })
        .upsert(true)
        .await
        .expect("upsert");
    assert_eq!(result.upserted_id, Some(Bson::String("fixed".into())));
    assert_eq!(
        coll.find_one(doc! {}).await.expect("find"),
        Some(doc! { "_id": "fixed", "v": 1 })
    );
}

#[tokio::test]
async fn replace_one_keeps_the_id_and_replaces_everything_else() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1, "a": 1, "b": 2 })
        .await
        .expect("insert");
    let result = coll
        .replace_one(doc! { "a": 1 }, doc! { "c": 3 })
        .await
        .expect("replace");
    assert_eq!(result.modified_count, 1);
    assert_eq!(one(&coll, 1).await, doc! { "_id": 1, "c": 3 });
}

#[tokio::test]
async fn changing_the_id_is_refused() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1 }).await.expect("insert");
    let error = coll
        .update_one(doc! { "_id": 1 }, doc! { "$set": { "_id": 2 } })
        .await
        .expect_err("immutable");
    assert_eq!(error_code(&error), Some(66));
    assert_eq!(one(&coll, 1).await, doc! { "_id": 1 });
}

#[tokio::test]
async fn array_operators_push_each_slice_add_to_set_pull() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1, "log": [1, 2], "tags": ["a"], "nums": [1, 5, 7, 2] })
        .await
        .expect("insert");
    let update = doc! {
        "$push": { "log": { "$each": [3, 4, 5], "$slice": -3 } },
        "$addToSet": { "tags": { "$each": ["a", "b"] } },
        "$pull": { "nums": { "$gte": 5 } },
    };
    coll.update_one(doc! { "_id": 1 }, update)
        .await
        .expect("update");
    let stored = one(&coll, 1).await;
    assert_eq!(
        stored.get_array("log").expect("log"),
        &vec![Bson::Int32(3), Bson::Int32(4), Bson::Int32(5)]
    );
    assert_eq!(stored.get_array("tags").expect("tags").len(), 2);
    assert_eq!(
        stored.get_array("nums").expect("nums"),
        &vec![Bson::Int32(1), Bson::Int32(2)]
    );
    let again = coll
        .update_one(doc! { "_id": 1 }, doc! { "$addToSet": { "tags": "a" } })
        .await
        .expect("noop");
    assert_eq!(again.modified_count, 0);
}

#[tokio::test]
async fn current_date_sets_a_date() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1 }).await.expect("insert");
    coll.update_one(doc! { "_id": 1 }, doc! { "$currentDate": { "at": true } })
        .await
        .expect("update");
    assert!(matches!(
        one(&coll, 1).await.get("at"),
        Some(Bson::DateTime(_))
    ));
}

#[tokio::test]
async fn pipeline_updates_are_refused_clearly() {
    let t = Target::start().await;
    let coll = t.coll("c");
    coll.insert_one(doc! { "_id": 1 }).await.expect("insert");
    let pipeline = UpdateModifications::Pipeline(vec![doc! { "$set": { "a": 1 } }]);
    if std::env::var("PARLOR_TEST_MONGODB_URI").is_ok() {
        // Real MongoDB supports them; only mongo-memory refuses.
        return;
    }
    let error = coll
        .update_one(doc! { "_id": 1 }, pipeline)
        .await
        .expect_err("refused");
    assert_eq!(error_code(&error), Some(238));
}

#[tokio::test]
async fn an_update_matching_nothing_creates_no_collection() {
    let t = Target::start().await;
    t.coll("other")
        .insert_one(doc! {})
        .await
        .expect("database exists");
    let result = t
        .coll("ghost")
        .update_one(doc! { "_id": 1 }, doc! { "$set": { "a": 1 } })
        .await
        .expect("update");
    assert_eq!(result.matched_count, 0);
    assert_eq!(
        t.db.list_collection_names().await.expect("names"),
        vec!["other"]
    );
}

#[tokio::test]
async fn a_versioned_write_matches_only_the_expected_version() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let id = mongodb::bson::oid::ObjectId::new();
    let created = coll
        .update_one(
            doc! { "_id": id },
            doc! { "$setOnInsert": { "v": { "n": 1_i64 }, "s": "a" } },
        )
        .upsert(true)
        .await
        .expect("create");
    assert_eq!(created.upserted_id, Some(Bson::ObjectId(id)));
    let again = coll
        .update_one(
            doc! { "_id": id },
            doc! { "$setOnInsert": { "v": { "n": 1_i64 }, "s": "z" } },
        )
        .upsert(true)
        .await
        .expect("exists");
    assert_eq!(
        (again.matched_count, again.modified_count, again.upserted_id),
        (1, 0, None)
    );
    let stale = coll
        .update_one(
            doc! { "_id": id, "v.n": 0_i64 },
            doc! { "$set": { "s": "b" } },
        )
        .await
        .expect("stale write");
    assert_eq!(stale.matched_count, 0);
    let current = coll
        .update_one(
            doc! { "_id": id, "v.n": 1 },
            doc! { "$set": { "s": "b", "v.n": 2_i64 } },
        )
        .await
        .expect("current write");
    assert_eq!((current.matched_count, current.modified_count), (1, 1));
    let stored = coll
        .find_one(doc! { "_id": id })
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(stored, doc! { "_id": id, "v": { "n": 2_i64 }, "s": "b" });
}

/// The projector's batch handshake: enter with an upsert guarded by
/// `$and` of `$or`s over missing fields, leave with `$unset` of a dotted path.
#[tokio::test]
async fn a_guarded_upsert_that_fails_on_an_existing_id_is_a_duplicate_key() {
    let t = Target::start().await;
    let coll = t.coll("c");
    let guard = || {
        doc! {
            "_id": "target",
            "$and": [
                { "$or": [ { "generation": 0_i64 }, { "generation": { "$exists": false } } ] },
                { "$or": [ { "pausedUntil": { "$exists": false } }, { "pausedUntil": { "$lte": 5_i64 } } ] },
            ],
        }
    };
    let entered = coll
        .update_one(guard(), doc! { "$set": { "writers.a-0": 1_i64 } })
        .upsert(true)
        .await
        .expect("enter, creating the document");
    assert_eq!(entered.upserted_id, Some(Bson::String("target".into())));
    let again = coll
        .update_one(guard(), doc! { "$set": { "writers.b-0": 2_i64 } })
        .upsert(true)
        .await
        .expect("enter again");
    assert_eq!((again.matched_count, again.upserted_id), (1, None));
    coll.update_one(
        doc! { "_id": "target" },
        doc! { "$unset": { "writers.b-0": "" }, "$set": { "pausedUntil": 9_i64 } },
    )
    .await
    .expect("leave and pause");
    let refused = coll
        .update_one(guard(), doc! { "$set": { "writers.b-0": 3_i64 } })
        .upsert(true)
        .await
        .expect_err("paused: the upsert inserts the same _id");
    assert_eq!(error_code(&refused), Some(11000));
    coll.update_one(
        doc! { "_id": "target" },
        doc! { "$unset": { "writers.a-0": "" } },
    )
    .await
    .expect("leave");
    assert_eq!(
        coll.find_one(doc! {}).await.expect("find"),
        Some(doc! { "_id": "target", "writers": {}, "pausedUntil": 9_i64 })
    );
}
