//! Sort specifications: `{a: 1, "b.c": -1}` with MongoDB's semantics — a
//! missing field sorts as `null`, an array field sorts by its smallest element
//! ascending and its largest descending, an empty array before `null`.

use std::cmp::Ordering;

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::order::{self, Number};
use crate::engine::path;

/// A parsed sort specification.
#[derive(Debug, Clone, Default)]
pub struct SortSpec {
    keys: Vec<(String, bool)>,
}

impl SortSpec {
    /// Parses a sort document; each key must be `1` or `-1` (any numeric type).
    pub fn parse(spec: &Document) -> Result<SortSpec, EngineError> {
        let mut keys = Vec::with_capacity(spec.len());
        for (field, direction) in spec {
            if matches!(direction, Bson::Document(meta) if meta.contains_key("$meta")) {
                return Err(EngineError::unsupported("$meta sort"));
            }
            let ascending = match Number::of(direction).and_then(|n| n.as_i64()) {
                Some(1) => true,
                Some(-1) => false,
                _ => {
                    return Err(EngineError::location(
                        15975,
                        "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
                    ));
                }
            };
            if field.is_empty() || field.split('.').any(str::is_empty) {
                return Err(EngineError::location(
                    40352,
                    "FieldPath cannot be constructed with empty string",
                ));
            }
            keys.push((field.clone(), ascending));
        }
        Ok(SortSpec { keys })
    }

    /// Whether the specification has no keys (no sorting at all).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Orders two documents; equal keys leave the order to a stable sort.
    pub fn compare(&self, a: &Document, b: &Document) -> Ordering {
        self.compare_keys(&self.keys_of(a), &self.keys_of(b))
    }

    /// Sorts documents in place, stably, computing each document's sort
    /// key once.
    pub fn sort(&self, docs: &mut [Document]) {
        if !self.is_empty() {
            docs.sort_by_cached_key(|doc| SortKey {
                values: self.keys_of(doc),
                spec: self,
            });
        }
    }

    fn keys_of(&self, doc: &Document) -> Vec<Bson> {
        self.keys
            .iter()
            .map(|(field, ascending)| sort_key(doc, field, *ascending))
            .collect()
    }

    fn compare_keys(&self, a: &[Bson], b: &[Bson]) -> Ordering {
        for (((_, ascending), left), right) in self.keys.iter().zip(a).zip(b) {
            let ord = order::compare(left, right);
            let ord = if *ascending { ord } else { ord.reverse() };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

/// A document's precomputed sort values, ordered by the specification.
struct SortKey<'a> {
    values: Vec<Bson>,
    spec: &'a SortSpec,
}

impl PartialEq for SortKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey<'_> {}

impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.spec.compare_keys(&self.values, &other.values)
    }
}

/// The value a document sorts by on one key: the smallest (ascending) or
/// largest (descending) of everything the path reaches, arrays expanded.
fn sort_key(doc: &Document, field: &str, ascending: bool) -> Bson {
    let mut values: Vec<Bson> = Vec::new();
    let mut saw_empty_array = false;
    for candidate in path::resolve(doc, field) {
        match candidate {
            None => values.push(Bson::Null),
            Some(Bson::Array(items)) if items.is_empty() => saw_empty_array = true,
            Some(Bson::Array(items)) => values.extend(items.iter().cloned()),
            Some(value) => values.push(value.clone()),
        }
    }
    let best = if ascending {
        values.into_iter().min_by(order::compare)
    } else {
        values.into_iter().max_by(order::compare)
    };
    match best {
        Some(value) => value,
        // An empty array sorts before null in both directions' terms.
        None if saw_empty_array => Bson::Undefined,
        None => Bson::Null,
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn sorted(spec: Document, docs: Vec<Document>) -> Vec<i32> {
        let spec = SortSpec::parse(&spec).expect("valid sort");
        let mut docs = docs;
        spec.sort(&mut docs);
        docs.iter()
            .map(|d| d.get_i32("_id").expect("_id"))
            .collect()
    }

    #[test]
    fn sorts_ascending_and_descending_across_types() {
        let docs = vec![
            doc! { "_id": 1, "a": "x" },
            doc! { "_id": 2, "a": 2.5 },
            doc! { "_id": 3 },
            doc! { "_id": 4, "a": 1i64 },
            doc! { "_id": 5, "a": null },
            doc! { "_id": 6, "a": { "b": 1 } },
        ];
        assert_eq!(
            sorted(doc! { "a": 1 }, docs.clone()),
            vec![3, 5, 4, 2, 1, 6]
        );
        assert_eq!(sorted(doc! { "a": -1 }, docs), vec![6, 1, 2, 4, 3, 5]);
    }

    #[test]
    fn arrays_sort_by_min_ascending_and_max_descending() {
        let docs = vec![
            doc! { "_id": 1, "a": [1, 10] },
            doc! { "_id": 2, "a": [5] },
            doc! { "_id": 3, "a": 3 },
            doc! { "_id": 4, "a": [] },
        ];
        assert_eq!(sorted(doc! { "a": 1 }, docs.clone()), vec![4, 1, 3, 2]);
        assert_eq!(sorted(doc! { "a": -1 }, docs), vec![1, 2, 3, 4]);
    }

    #[test]
    fn dotted_paths_and_secondary_keys() {
        let docs = vec![
            doc! { "_id": 1, "a": { "b": 2 }, "c": 1 },
            doc! { "_id": 2, "a": { "b": 1 }, "c": 1 },
            doc! { "_id": 3, "a": { "b": 1 }, "c": 2 },
        ];
        assert_eq!(sorted(doc! { "a.b": 1, "c": -1 }, docs), vec![3, 2, 1]);
    }

    #[test]
    fn ties_keep_input_order() {
        let docs = vec![doc! { "_id": 2, "a": 1 }, doc! { "_id": 1, "a": 1.0 }];
        assert_eq!(sorted(doc! { "a": 1 }, docs), vec![2, 1]);
    }

    #[test]
    fn rejects_bad_directions() {
        assert_eq!(SortSpec::parse(&doc! { "a": 2 }).unwrap_err().code, 15975);
        assert_eq!(
            SortSpec::parse(&doc! { "a": "asc" }).unwrap_err().code,
            15975
        );
        assert_eq!(
            SortSpec::parse(&doc! { "a": { "$meta": "textScore" } })
                .unwrap_err()
                .code,
            238
        );
        assert!(SortSpec::parse(&doc! { "a": -1.0, "b": 1i64 }).is_ok());
    }
}
