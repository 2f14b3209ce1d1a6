//! Matching on arrays: `$elemMatch`, `$size`, `$all`, array equality,
//! paths through arrays, and `$pull` element conditions.

use bson::{Bson, doc};

use super::{error_code, matches};
use crate::engine::filter::ElementCondition;

#[test]
fn array_equality_is_exact_or_element() {
    assert!(matches(doc! { "a": [1, 5] }, doc! { "a": [1, 5] }));
    assert!(!matches(doc! { "a": [1, 5] }, doc! { "a": [5, 1] }));
    assert!(matches(doc! { "a": [1, 5] }, doc! { "a": [[1, 5], 2] }));
    assert!(!matches(doc! { "a": [1] }, doc! { "a": 1 }));
}

#[test]
fn elem_match_query_and_value_forms() {
    let d = doc! { "r": [{ "p": "x", "s": 1 }, { "p": "y", "s": 5 }], "n": [1, 8, 12] };
    assert!(matches(
        doc! { "r": { "$elemMatch": { "p": "y", "s": { "$gt": 2 } } } },
        d.clone()
    ));
    assert!(!matches(
        doc! { "r": { "$elemMatch": { "p": "x", "s": { "$gt": 2 } } } },
        d.clone()
    ));
    // Without $elemMatch each condition may be met by a different element.
    assert!(matches(doc! { "r.p": "x", "r.s": { "$gt": 2 } }, d.clone()));
    assert!(matches(
        doc! { "n": { "$elemMatch": { "$gt": 9, "$lt": 13 } } },
        d.clone()
    ));
    assert!(!matches(
        doc! { "n": { "$elemMatch": { "$gt": 1, "$lt": 8 } } },
        d.clone()
    ));
    assert!(!matches(
        doc! { "p": { "$elemMatch": { "$gt": 1 } } },
        doc! { "p": 5 }
    ));
    assert!(matches(
        doc! { "r": { "$elemMatch": { "$or": [{ "p": "y" }] } } },
        d
    ));
    assert_eq!(error_code(doc! { "a": { "$elemMatch": 1 } }), 2);
}

#[test]
fn size() {
    assert!(matches(
        doc! { "a": { "$size": 2 } },
        doc! { "a": [1, [2, 3]] }
    ));
    assert!(!matches(
        doc! { "a": { "$size": 1 } },
        doc! { "a": [1, [2, 3]] }
    ));
    assert!(matches(doc! { "a": { "$size": 0 } }, doc! { "a": [] }));
    assert!(!matches(doc! { "a": { "$size": 1 } }, doc! { "a": 1 }));
    assert!(!matches(doc! { "a": { "$size": 0 } }, doc! {}));
    assert!(matches(
        doc! { "a.b": { "$size": 2 } },
        doc! { "a": [{ "b": [1, 2] }] }
    ));
    assert_eq!(error_code(doc! { "a": { "$size": -1 } }), 2);
    assert_eq!(error_code(doc! { "a": { "$size": 1.5 } }), 2);
    assert_eq!(error_code(doc! { "a": { "$size": "1" } }), 2);
}

#[test]
fn all() {
    assert!(matches(
        doc! { "a": { "$all": [1, 3] } },
        doc! { "a": [3, 2, 1] }
    ));
    assert!(!matches(
        doc! { "a": { "$all": [1, 4] } },
        doc! { "a": [3, 2, 1] }
    ));
    assert!(matches(doc! { "a": { "$all": [1] } }, doc! { "a": 1 }));
    assert!(!matches(doc! { "a": { "$all": [] } }, doc! { "a": [1] }));
    assert!(matches(
        doc! { "a": { "$all": [[1, 2]] } },
        doc! { "a": [[1, 2], 3] }
    ));
    let filter = doc! { "a": { "$all": [
        { "$elemMatch": { "x": 1 } },
        { "$elemMatch": { "y": 2 } },
    ] } };
    assert!(matches(
        filter.clone(),
        doc! { "a": [{ "x": 1 }, { "y": 2 }] }
    ));
    assert!(!matches(filter, doc! { "a": [{ "x": 1 }] }));
}

#[test]
fn dotted_paths_through_arrays_and_indexes() {
    let d = doc! { "a": [{ "b": 1 }, { "b": [2, 3] }], "c": { "d": [5, 6] } };
    assert!(matches(doc! { "a.b": 3 }, d.clone()));
    assert!(matches(doc! { "a.1.b": 2 }, d.clone()));
    assert!(!matches(doc! { "a.0.b": 2 }, d.clone()));
    assert!(matches(doc! { "c.d.1": 6 }, d.clone()));
    assert!(matches(doc! { "c.d": { "$gt": 5 } }, d));
}

#[test]
fn element_conditions_for_pull() {
    let cond = |c: Bson| ElementCondition::parse(&c).expect("valid");
    assert!(cond(Bson::Int32(1)).matches(&Bson::Double(1.0)));
    assert!(cond(Bson::Document(doc! { "$gte": 6 })).matches(&Bson::Int32(7)));
    assert!(!cond(Bson::Document(doc! { "$gte": 6 })).matches(&Bson::Int32(5)));
    let query = cond(Bson::Document(doc! { "score": 8, "item": "B" }));
    assert!(query.matches(&Bson::Document(doc! { "item": "B", "score": 8, "x": 1 })));
    assert!(!query.matches(&Bson::Int32(8)));
    assert!(cond(bson::bson!([1, 2])).matches(&bson::bson!([1, 2])));
}
