//! Query operators, dotted paths, array matching, type bracketing, projection.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};

use crate::target::Target;

async fn fixture(t: &Target) -> mongodb::Collection<Document> {
    let coll = t.coll("q");
    coll.insert_many(vec![
        doc! { "_id": 1, "n": 5, "s": "apple", "tags": ["red", "fruit"], "sub": { "k": 1, "arr": [{ "x": 1 }, { "x": 7 }] } },
        doc! { "_id": 2, "n": 10_i64, "s": "Banana", "tags": ["yellow", "fruit"], "sub": { "k": 2, "arr": [{ "x": 3 }] } },
        doc! { "_id": 3, "n": 7.5, "s": "cherry", "tags": [], "sub": { "k": null } },
        doc! { "_id": 4, "n": "5", "tags": "red", "scores": [2, 9] },
        doc! { "_id": 5, "n": null, "scores": [[1, 2], 3] },
        doc! { "_id": 6 },
    ])
    .await
    .expect("fixture");
    coll
}

async fn ids(coll: &mongodb::Collection<Document>, filter: Document) -> Vec<i32> {
    let docs: Vec<Document> = coll
        .find(filter)
        .sort(doc! { "_id": 1 })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect");
    docs.iter()
        .map(|d| d.get_i32("_id").expect("_id"))
        .collect()
}

#[tokio::test]
async fn comparisons_bracket_by_type() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    assert_eq!(
        ids(&c, doc! { "n": { "$gt": 5 } }).await,
        vec![2, 3],
        "numbers only, across int/long/double"
    );
    assert_eq!(ids(&c, doc! { "n": { "$gte": 5 } }).await, vec![1, 2, 3]);
    assert_eq!(
        ids(&c, doc! { "n": { "$lt": "6" } }).await,
        vec![4],
        "strings compare with strings"
    );
    assert_eq!(
        ids(&c, doc! { "n": 10 }).await,
        vec![2],
        "int32 equals int64"
    );
    assert_eq!(
        ids(&c, doc! { "n": { "$ne": 5 } }).await,
        vec![2, 3, 4, 5, 6]
    );
    assert_eq!(
        ids(&c, doc! { "n": { "$lte": 7.5, "$gt": 5 } }).await,
        vec![3]
    );
}

#[tokio::test]
async fn null_matches_missing_and_exists_tells_them_apart() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    assert_eq!(ids(&c, doc! { "n": null }).await, vec![5, 6]);
    assert_eq!(ids(&c, doc! { "n": { "$exists": false } }).await, vec![6]);
    assert_eq!(
        ids(&c, doc! { "n": { "$exists": true } }).await,
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(ids(&c, doc! { "sub.k": null }).await, vec![3, 4, 5, 6]);
}

#[tokio::test]
async fn arrays_match_any_element_or_the_whole_array() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    assert_eq!(ids(&c, doc! { "tags": "red" }).await, vec![1, 4]);
    assert_eq!(ids(&c, doc! { "tags": ["yellow", "fruit"] }).await, vec![2]);
    assert_eq!(ids(&c, doc! { "tags": [] }).await, vec![3]);
    assert_eq!(ids(&c, doc! { "scores": { "$gt": 8 } }).await, vec![4]);
    assert_eq!(
        ids(&c, doc! { "scores": [1, 2] }).await,
        vec![5],
        "nested array element equality"
    );
    assert_eq!(
        ids(&c, doc! { "scores": 1 }).await,
        Vec::<i32>::new(),
        "no recursion into nested arrays"
    );
    assert_eq!(ids(&c, doc! { "tags": { "$size": 2 } }).await, vec![1, 2]);
    assert_eq!(
        ids(&c, doc! { "tags": { "$all": ["fruit", "red"] } }).await,
        vec![1]
    );
}

#[tokio::test]
async fn dotted_paths_reach_into_arrays_of_documents() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    assert_eq!(ids(&c, doc! { "sub.arr.x": 7 }).await, vec![1]);
    // Without $elemMatch each condition may be met by a different element (7 > 2, 1 < 4).
    assert_eq!(
        ids(&c, doc! { "sub.arr.x": { "$gt": 2, "$lt": 4 } }).await,
        vec![1, 2]
    );
    assert_eq!(ids(&c, doc! { "sub.arr.0.x": 1 }).await, vec![1]);
    assert_eq!(
        ids(
            &c,
            doc! { "sub.arr": { "$elemMatch": { "x": { "$gt": 2, "$lt": 4 } } } }
        )
        .await,
        vec![2]
    );
    assert_eq!(
        ids(
            &c,
            doc! { "scores": { "$elemMatch": { "$gt": 1, "$lt": 3 } } }
        )
        .await,
        vec![4]
    );
}

#[tokio::test]
async fn set_membership_logic_and_regex() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    assert_eq!(
        ids(&c, doc! { "n": { "$in": [5, "5", null] } }).await,
        vec![1, 4, 5, 6]
    );
    assert_eq!(
        ids(&c, doc! { "tags": { "$nin": ["fruit"] } }).await,
        vec![3, 4, 5, 6]
    );
    assert_eq!(
        ids(&c, doc! { "$or": [{ "_id": 1 }, { "s": "cherry" }] }).await,
        vec![1, 3]
    );
    assert_eq!(
        ids(
            &c,
            doc! { "$and": [{ "tags": "fruit" }, { "n": { "$gt": 6 } }] }
        )
        .await,
        vec![2]
    );
    assert_eq!(
        ids(&c, doc! { "$nor": [{ "tags": "fruit" }, { "n": null }] }).await,
        vec![3, 4]
    );
    assert_eq!(
        ids(&c, doc! { "n": { "$not": { "$gt": 5 } } }).await,
        vec![1, 4, 5, 6]
    );
    assert_eq!(
        ids(&c, doc! { "s": { "$regex": "^b", "$options": "i" } }).await,
        vec![2]
    );
    assert_eq!(ids(&c, doc! { "s": { "$regex": "rr" } }).await, vec![3]);
}

#[tokio::test]
async fn type_operator_by_alias_and_number() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    assert_eq!(
        ids(&c, doc! { "n": { "$type": "number" } }).await,
        vec![1, 2, 3]
    );
    assert_eq!(ids(&c, doc! { "n": { "$type": "long" } }).await, vec![2]);
    assert_eq!(ids(&c, doc! { "n": { "$type": 2 } }).await, vec![4]);
    assert_eq!(
        ids(&c, doc! { "tags": { "$type": "array" } }).await,
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn projection_includes_excludes_and_reaches_dotted_fields() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    let found = c
        .find_one(doc! { "_id": 1 })
        .projection(doc! { "s": 1, "sub.k": 1 })
        .await
        .expect("find");
    assert_eq!(
        found,
        Some(doc! { "_id": 1, "s": "apple", "sub": { "k": 1 } })
    );
    let found = c
        .find_one(doc! { "_id": 2 })
        .projection(doc! { "sub": 0, "tags": 0, "_id": 0 })
        .await
        .expect("find");
    assert_eq!(found, Some(doc! { "n": 10_i64, "s": "Banana" }));
    assert_eq!(
        found.and_then(|d| d.get("n").cloned()),
        Some(Bson::Int64(10))
    );
}

#[tokio::test]
async fn unknown_query_operator_is_refused() {
    let t = Target::start().await;
    let c = fixture(&t).await;
    let error = c
        .find_one(doc! { "n": { "$frob": 1 } })
        .await
        .expect_err("unknown operator");
    assert_eq!(crate::target::error_code(&error), Some(2));
}
