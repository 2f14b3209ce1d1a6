//! Dotted paths as MongoDB's query layer reads them: `a.b` walks into
//! documents, and through an array it walks into every element (one level of
//! arrays per path component); a numeric component also indexes an array.

use bson::{Bson, Document};

/// Parses a path component that indexes an array (`"0"`, `"12"`, not `"01"`).
pub fn array_index(component: &str) -> Option<usize> {
    let canonical = !component.is_empty()
        && component.bytes().all(|b| b.is_ascii_digit())
        && (component == "0" || !component.starts_with('0'));
    canonical.then(|| component.parse().ok()).flatten()
}

/// Every value a dotted path reaches in `doc`; `None` marks a branch where the
/// path is missing (that is what `{a: null}` and `$exists: false` match).
/// Terminal arrays are returned whole; callers expand them where MongoDB does.
/// Mirrors MongoDB's `BSONElementIterator`: a path continuing through an
/// array of scalars reaches nothing at all (so `{"a.b": null}` does not
/// match `{a: [1]}`), while a path through a scalar is missing.
pub fn resolve<'a>(doc: &'a Document, path: &str) -> Vec<Option<&'a Bson>> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    resolve_in_document(doc, &parts, &mut out);
    out
}

fn resolve_in_document<'a>(doc: &'a Document, parts: &[&str], out: &mut Vec<Option<&'a Bson>>) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    match doc.get(*first) {
        None => out.push(None),
        Some(value) => resolve_in_value(value, rest, out),
    }
}

fn resolve_in_value<'a>(value: &'a Bson, parts: &[&str], out: &mut Vec<Option<&'a Bson>>) {
    let Some((first, rest)) = parts.split_first() else {
        out.push(Some(value));
        return;
    };
    match value {
        Bson::Document(doc) => resolve_in_document(doc, parts, out),
        Bson::Array(items) => {
            // Implicit traversal: the whole remaining path continues inside
            // each embedded document (a document without the field is one
            // missing value); scalars contribute nothing. A numeric
            // component also selects the element at that offset.
            let offset = array_index(first);
            for (i, item) in items.iter().enumerate() {
                if let Bson::Document(inner) = item {
                    resolve_in_document(inner, parts, out);
                }
                let descend = rest.is_empty() || matches!(item, Bson::Document(_) | Bson::Array(_));
                if offset == Some(i) && descend {
                    resolve_in_value(item, rest, out);
                }
            }
        }
        _ => out.push(None),
    }
}

/// A plain lookup with no implicit array traversal: numeric components index
/// arrays, anything else must be a document field.
pub fn get<'a>(doc: &'a Document, path: &str) -> Option<&'a Bson> {
    let mut parts = path.split('.');
    let mut current = doc.get(parts.next()?)?;
    for part in parts {
        current = match current {
            Bson::Document(inner) => inner.get(part)?,
            Bson::Array(items) => items.get(array_index(part)?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// [`get`], mutably.
pub fn get_mut<'a>(doc: &'a mut Document, path: &str) -> Option<&'a mut Bson> {
    let mut parts = path.split('.');
    let mut current = doc.get_mut(parts.next()?)?;
    for part in parts {
        current = match current {
            Bson::Document(inner) => inner.get_mut(part)?,
            Bson::Array(items) => items.get_mut(array_index(part)?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Sets `path` in a document, creating intermediate documents, replacing
/// non-document intermediates (used to build upsert seeds and projections).
pub fn set_creating(doc: &mut Document, path: &str, value: Bson) {
    match path.split_once('.') {
        None => {
            doc.insert(path, value);
        }
        Some((head, tail)) => {
            if !matches!(doc.get(head), Some(Bson::Document(_))) {
                doc.insert(head, Document::new());
            }
            if let Some(Bson::Document(inner)) = doc.get_mut(head) {
                set_creating(inner, tail, value);
            }
        }
    }
}

/// Sets a computed field the way `$addFields` and `$project` do: through
/// an array the field is set in every element, and a scalar (or missing)
/// value on the way is replaced by a new document.
pub fn set_computed(doc: &mut Document, path: &str, value: &Bson) {
    match path.split_once('.') {
        None => {
            doc.insert(path, value.clone());
        }
        Some((head, tail)) => {
            let slot = doc
                .entry(head.to_owned())
                .or_insert_with(|| Bson::Document(Document::new()));
            set_computed_in(slot, tail, value);
        }
    }
}

fn set_computed_in(slot: &mut Bson, path: &str, value: &Bson) {
    match slot {
        Bson::Document(inner) => set_computed(inner, path, value),
        Bson::Array(items) => items
            .iter_mut()
            .for_each(|item| set_computed_in(item, path, value)),
        other => {
            let mut fresh = Document::new();
            set_computed(&mut fresh, path, value);
            *other = Bson::Document(fresh);
        }
    }
}

/// Removes a field at a dotted path through embedded documents.
pub fn remove(doc: &mut Document, path: &str) {
    match path.split_once('.') {
        None => {
            doc.remove(path);
        }
        Some((head, tail)) => {
            if let Some(Bson::Document(inner)) = doc.get_mut(head) {
                remove(inner, tail);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bson::{bson, doc};

    use super::*;

    fn found(doc: &Document, path: &str) -> Vec<Option<Bson>> {
        resolve(doc, path).into_iter().map(|v| v.cloned()).collect()
    }

    #[test]
    fn walks_documents() {
        let d = doc! { "a": { "b": { "c": 3 } } };
        assert_eq!(found(&d, "a.b.c"), vec![Some(bson!(3))]);
        assert_eq!(found(&d, "a.x"), vec![None]);
        assert_eq!(found(&d, "a.b.c.d"), vec![None]);
    }

    #[test]
    fn walks_into_each_array_element() {
        let d = doc! { "a": [ { "b": 1 }, { "b": 2 }, { "c": 3 }, 4 ] };
        assert_eq!(found(&d, "a.b"), vec![Some(bson!(1)), Some(bson!(2)), None]);
        assert!(found(&doc! { "a": [1, 2] }, "a.b").is_empty());
        assert!(found(&doc! { "a": [] }, "a.b").is_empty());
    }

    #[test]
    fn terminal_arrays_are_returned_whole() {
        let d = doc! { "a": [ { "b": [1, 2] } ] };
        assert_eq!(found(&d, "a.b"), vec![Some(bson!([1, 2]))]);
    }

    #[test]
    fn numeric_components_index_arrays() {
        let d = doc! { "a": [ { "b": 1 }, { "b": 2 } ] };
        // Each document is also searched for a field named "1" (missing).
        assert_eq!(found(&d, "a.1.b"), vec![None, None, Some(bson!(2))]);
        assert_eq!(
            found(&doc! { "a": [5, [6]] }, "a.1"),
            vec![Some(bson!([6]))]
        );
        assert!(found(&doc! { "a": [5, 6] }, "a.0.b").is_empty());
        assert!(found(&d, "a.5").iter().all(Option::is_none));
        assert_eq!(get(&d, "a.0.b"), Some(&bson!(1)));
        assert_eq!(get(&d, "a.b"), None);
    }

    #[test]
    fn nested_arrays_are_not_traversed_implicitly() {
        let d = doc! { "a": [ [ { "b": 1 } ] ] };
        assert!(found(&d, "a.b").is_empty());
    }

    #[test]
    fn array_index_is_canonical() {
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("10"), Some(10));
        assert_eq!(array_index("01"), None);
        assert_eq!(array_index("-1"), None);
        assert_eq!(array_index(""), None);
    }

    #[test]
    fn set_creating_builds_intermediate_documents() {
        let mut d = doc! { "a": 1 };
        set_creating(&mut d, "b.c.d", bson!(2));
        set_creating(&mut d, "b.e", bson!(3));
        assert_eq!(d, doc! { "a": 1, "b": { "c": { "d": 2 }, "e": 3 } });
    }

    #[test]
    fn set_computed_maps_over_arrays_and_replaces_scalars() {
        let mut d = doc! { "a": [{ "c": 1 }, 2, [{ "c": 3 }]], "s": 5 };
        set_computed(&mut d, "a.b", &bson!(true));
        set_computed(&mut d, "s.t", &bson!(1));
        set_computed(&mut d, "n.m", &bson!(2));
        assert_eq!(
            d,
            doc! {
                "a": [{ "c": 1, "b": true }, { "b": true }, [{ "c": 3, "b": true }]],
                "s": { "t": 1 },
                "n": { "m": 2 },
            }
        );
        remove(&mut d, "s.t");
        remove(&mut d, "n");
        assert_eq!(d.get("s"), Some(&bson!({})));
        assert!(!d.contains_key("n"));
    }
}
