//! Index keys: the values an index holds for a document, encoded so that
//! values MongoDB considers equal (`1`, `1.0`, `NumberLong(1)`) encode the same.

use bson::{Bson, Document};

/// The keys `document` produces under the index `pattern`; several when an
/// indexed field holds an array (a multikey index), none when `sparse` and
/// every indexed field is missing.
pub fn keys_for(pattern: &Document, document: &Document, sparse: bool) -> Vec<(Vec<u8>, Document)> {
    let per_field: Vec<Vec<Bson>> = pattern
        .keys()
        .map(|path| values_at(document, path))
        .collect();
    if sparse && per_field.iter().all(Vec::is_empty) {
        return Vec::new();
    }
    let mut combinations: Vec<(Vec<u8>, Document)> = vec![(Vec::new(), Document::new())];
    for (path, values) in pattern.keys().zip(per_field) {
        let values = if values.is_empty() {
            vec![Bson::Null]
        } else {
            values
        };
        let mut next = Vec::with_capacity(combinations.len() * values.len());
        for (bytes, shown) in &combinations {
            for value in &values {
                let mut bytes = bytes.clone();
                encode(value, &mut bytes);
                let mut shown = shown.clone();
                shown.insert(path.clone(), value.clone());
                next.push((bytes, shown));
            }
        }
        combinations = next;
    }
    combinations.sort_by(|a, b| a.0.cmp(&b.0));
    combinations.dedup_by(|a, b| a.0 == b.0);
    combinations
}

/// Values at a dotted path, descending into arrays of documents and expanding
/// a final array into its elements (an empty array indexes as `undefined`).
fn values_at(document: &Document, path: &str) -> Vec<Bson> {
    let mut current = vec![Bson::Document(document.clone())];
    for part in path.split('.') {
        let mut next = Vec::new();
        for value in current {
            match value {
                Bson::Document(d) => next.extend(d.get(part).cloned()),
                Bson::Array(items) => match part.parse::<usize>() {
                    Ok(i) => next.extend(items.get(i).cloned()),
                    Err(_) => next.extend(items.into_iter().filter_map(|item| match item {
                        Bson::Document(d) => d.get(part).cloned(),
                        _ => None,
                    })),
                },
                _ => {}
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|value| match value {
            Bson::Array(items) if items.is_empty() => vec![Bson::Undefined],
            Bson::Array(items) => items,
            other => vec![other],
        })
        .collect()
}

fn encode(value: &Bson, out: &mut Vec<u8>) {
    match value {
        Bson::Null | Bson::Undefined => out.push(b'z'),
        Bson::Int32(i) => encode_integer(i64::from(*i), out),
        Bson::Int64(i) => encode_integer(*i, out),
        Bson::Double(d) => encode_double(*d, out),
        Bson::String(s) | Bson::Symbol(s) => {
            out.push(b's');
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        Bson::Document(d) => {
            out.push(b'o');
            for (key, value) in d {
                out.extend_from_slice(key.as_bytes());
                out.push(0);
                encode(value, out);
            }
            out.push(b'}');
        }
        Bson::Array(items) => {
            out.push(b'a');
            for item in items {
                encode(item, out);
            }
            out.push(b']');
        }
        Bson::Boolean(b) => out.extend_from_slice(&[b'b', u8::from(*b)]),
        Bson::ObjectId(id) => {
            out.push(b'i');
            out.extend_from_slice(&id.bytes());
        }
        other => {
            // Rarer types compare equal only to an identical value: encode them exactly.
            out.push(b'x');
            out.push(other.element_type() as u8);
            let bytes = bson::to_vec(&bson::doc! { "": other.clone() }).unwrap_or_default();
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(&bytes);
        }
    }
}

fn encode_integer(i: i64, out: &mut Vec<u8>) {
    out.push(b'n');
    out.extend_from_slice(&i.to_be_bytes());
}

/// Whole doubles within the `i64` range encode as integers so `1.0 == 1`.
fn encode_double(d: f64, out: &mut Vec<u8>) {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if d.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&d) {
        #[allow(clippy::cast_possible_truncation)]
        encode_integer(d as i64, out);
    } else if d.is_nan() {
        out.push(b'N');
    } else {
        out.push(b'd');
        out.extend_from_slice(&d.to_bits().to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::keys_for;

    fn key(document: bson::Document) -> Vec<Vec<u8>> {
        keys_for(&doc! { "a": 1 }, &document, false)
            .into_iter()
            .map(|k| k.0)
            .collect()
    }

    #[test]
    fn numbers_of_different_types_share_a_key() {
        assert_eq!(key(doc! { "a": 1 }), key(doc! { "a": 1.0 }));
        assert_eq!(key(doc! { "a": 1 }), key(doc! { "a": 1_i64 }));
        assert_ne!(key(doc! { "a": 1 }), key(doc! { "a": 1.5 }));
    }

    #[test]
    fn missing_and_null_share_a_key() {
        assert_eq!(key(doc! {}), key(doc! { "a": null }));
    }

    #[test]
    fn arrays_produce_one_key_per_element() {
        assert_eq!(key(doc! { "a": [1, 2, 2] }).len(), 2);
    }
}
