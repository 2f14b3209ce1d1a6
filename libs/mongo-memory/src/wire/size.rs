//! A document's encoded BSON size, counted from the document without
//! encoding it: the size limits are checked on every insert, update and
//! reply batch, and encoding a large document only to measure it cost more
//! than the write itself.

use bson::{Bson, Document, spec::BinarySubtype};

/// The bytes `bson::to_vec(document)` would produce.
pub fn encoded_size(document: &Document) -> usize {
    elements_size(document.iter().map(|(key, value)| (key.len(), value)))
}

/// A length prefix, the elements and the terminating zero.
fn elements_size<'a>(elements: impl Iterator<Item = (usize, &'a Bson)>) -> usize {
    let elements: usize = elements
        .map(|(key_len, value)| 1 + key_len + 1 + value_size(value))
        .sum();
    4 + elements + 1
}

fn value_size(value: &Bson) -> usize {
    match value {
        Bson::Double(_) | Bson::DateTime(_) | Bson::Int64(_) | Bson::Timestamp(_) => 8,
        Bson::String(s) | Bson::Symbol(s) | Bson::JavaScriptCode(s) => string_size(s),
        Bson::Document(document) => encoded_size(document),
        // Keys are the decimal indexes: "0", "1", …
        Bson::Array(items) => elements_size(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| (decimal_digits(index), item)),
        ),
        Bson::Binary(binary) => {
            // The old binary subtype repeats the length inside the payload.
            let repeated = if binary.subtype == BinarySubtype::BinaryOld {
                4
            } else {
                0
            };
            4 + 1 + repeated + binary.bytes.len()
        }
        Bson::ObjectId(_) => 12,
        Bson::Boolean(_) => 1,
        Bson::Null | Bson::Undefined | Bson::MinKey | Bson::MaxKey => 0,
        Bson::RegularExpression(regex) => regex.pattern.len() + 1 + regex.options.len() + 1,
        Bson::JavaScriptCodeWithScope(code) => {
            4 + string_size(&code.code) + encoded_size(&code.scope)
        }
        Bson::Int32(_) => 4,
        Bson::Decimal128(_) => 16,
        Bson::DbPointer(pointer) => db_pointer_size(pointer),
    }
}

fn string_size(s: &str) -> usize {
    4 + s.len() + 1
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// A `DbPointer`'s fields are private (and the type long deprecated): it
/// is measured by encoding it alone, as `{"": pointer}`.
fn db_pointer_size(pointer: &bson::DbPointer) -> usize {
    let alone = bson::doc! { "": Bson::DbPointer(pointer.clone()) };
    // Length prefix, type byte, empty key's terminator, document terminator.
    bson::to_vec(&alone).map_or(0, |bytes| bytes.len().saturating_sub(7))
}

#[cfg(test)]
mod tests {
    use bson::{Binary, Decimal128, JavaScriptCodeWithScope, Regex, Timestamp, doc, oid::ObjectId};
    use proptest::prelude::*;

    use super::*;

    fn encoded(document: &Document) -> usize {
        bson::to_vec(document).expect("encodes").len()
    }

    #[test]
    fn every_type_counts_as_many_bytes_as_it_encodes_to() {
        let document = doc! {
            "double": 1.5,
            "string": "héllo",
            "document": { "a": 1, "b": { "c": "d" } },
            "array": (0..12).map(Bson::Int32).collect::<Vec<_>>(),
            "binary": Binary { subtype: BinarySubtype::Generic, bytes: vec![1, 2, 3] },
            "old binary": Binary { subtype: BinarySubtype::BinaryOld, bytes: vec![1, 2, 3, 4] },
            "undefined": Bson::Undefined,
            "oid": ObjectId::new(),
            "bool": true,
            "date": bson::DateTime::now(),
            "null": Bson::Null,
            "regex": Regex { pattern: "^a.*".into(), options: "i".into() },
            "code": Bson::JavaScriptCode("return 1".into()),
            "symbol": Bson::Symbol("sym".into()),
            "scoped": JavaScriptCodeWithScope { code: "x".into(), scope: doc! { "x": 1 } },
            "int32": 7_i32,
            "timestamp": Timestamp { time: 1, increment: 2 },
            "int64": 7_i64,
            "decimal": Decimal128::from_bytes([0; 16]),
            "min": Bson::MinKey,
            "max": Bson::MaxKey,
        };
        assert_eq!(encoded_size(&document), encoded(&document));
        let empty = Document::new();
        assert_eq!(encoded_size(&empty), encoded(&empty));
    }

    #[test]
    fn a_db_pointer_counts_its_namespace() {
        let document: Document = bson::from_slice(&db_pointer_bytes("db.things")).expect("decodes");
        assert_eq!(encoded_size(&document), encoded(&document));
    }

    /// `{p: DbPointer(namespace, 0…)}`, written by hand: the crate offers
    /// no constructor.
    fn db_pointer_bytes(namespace: &str) -> Vec<u8> {
        let mut element = vec![0x0C, b'p', 0];
        let len = i32::try_from(namespace.len() + 1).expect("short");
        element.extend(len.to_le_bytes());
        element.extend(namespace.as_bytes());
        element.push(0);
        element.extend([0; 12]);
        let total = i32::try_from(4 + element.len() + 1).expect("short");
        let mut bytes = total.to_le_bytes().to_vec();
        bytes.extend(element);
        bytes.push(0);
        bytes
    }

    fn value() -> impl Strategy<Value = Bson> {
        let leaf = prop_oneof![
            any::<f64>().prop_map(Bson::Double),
            ".{0,20}".prop_map(Bson::String),
            any::<i32>().prop_map(Bson::Int32),
            any::<i64>().prop_map(Bson::Int64),
            any::<bool>().prop_map(Bson::Boolean),
            Just(Bson::Null),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(|bytes| Bson::Binary(Binary {
                subtype: BinarySubtype::Generic,
                bytes
            })),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..12).prop_map(Bson::Array),
                proptest::collection::vec(("[a-z]{0,8}", inner), 0..8)
                    .prop_map(|fields| Bson::Document(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_document_counts_as_many_bytes_as_it_encodes_to(
            fields in proptest::collection::vec(("[a-zé]{0,8}", value()), 0..10)
        ) {
            let document: Document = fields.into_iter().collect();
            prop_assert_eq!(encoded_size(&document), encoded(&document));
        }
    }
}
