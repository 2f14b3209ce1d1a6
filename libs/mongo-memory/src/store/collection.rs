//! One collection: documents in insertion order and its indexes, of which the
//! unique ones are enforced.

use std::collections::{BTreeMap, HashMap};

use bson::{Bson, Document, doc};

use super::index_key::keys_for;
use crate::error::{CommandError, code};

/// An index as `createIndexes` declared it; unique ones keep their keys.
#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub key: Document,
    pub unique: bool,
    pub sparse: bool,
    entries: HashMap<Vec<u8>, u64>,
}

impl Index {
    pub fn new(name: String, key: Document, unique: bool, sparse: bool) -> Self {
        Self {
            name,
            key,
            unique,
            sparse,
            entries: HashMap::new(),
        }
    }

    /// The `listIndexes` description.
    pub fn describe(&self) -> Document {
        let mut spec = doc! { "v": 2, "key": self.key.clone(), "name": &self.name };
        if self.unique && self.name != ID_INDEX {
            spec.insert("unique", true);
        }
        if self.sparse {
            spec.insert("sparse", true);
        }
        spec
    }
}

pub const ID_INDEX: &str = "_id_";

/// A collection's documents, keyed by a sequence number that keeps insertion order.
#[derive(Debug, Clone)]
pub struct Collection {
    /// `db.collection`, for error messages.
    pub namespace: String,
    pub options: Document,
    docs: BTreeMap<u64, Document>,
    next_seq: u64,
    indexes: Vec<Index>,
}

impl Collection {
    pub fn new(namespace: String, options: Document) -> Self {
        Self {
            namespace,
            options,
            docs: BTreeMap::new(),
            next_seq: 0,
            indexes: vec![Index::new(ID_INDEX.into(), doc! { "_id": 1 }, true, false)],
        }
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn documents(&self) -> impl Iterator<Item = (u64, &Document)> {
        self.docs.iter().map(|(seq, doc)| (*seq, doc))
    }

    pub fn get(&self, seq: u64) -> Option<&Document> {
        self.docs.get(&seq)
    }

    /// The document whose `_id` equals `id`, through the `_id` index.
    pub fn find_by_id(&self, id: &Bson) -> Option<u64> {
        let probe = doc! { "_id": id.clone() };
        let index = self.indexes.iter().find(|i| i.name == ID_INDEX)?;
        let (key, _) = keys_for(&index.key, &probe, false).into_iter().next()?;
        index.entries.get(&key).copied()
    }

    pub fn indexes(&self) -> &[Index] {
        &self.indexes
    }

    /// Stores a document that already has its `_id`.
    pub fn insert(&mut self, document: Document) -> Result<u64, CommandError> {
        let seq = self.next_seq;
        let keys = self.unique_keys(&document, None)?;
        self.next_seq += 1;
        self.add_keys(keys, seq);
        self.docs.insert(seq, document);
        Ok(seq)
    }

    /// Replaces the document at `seq`, keeping unique indexes consistent.
    pub fn replace(&mut self, seq: u64, document: Document) -> Result<(), CommandError> {
        let keys = self.unique_keys(&document, Some(seq))?;
        if let Some(old) = self.docs.remove(&seq) {
            self.remove_keys(&old, seq);
        }
        self.add_keys(keys, seq);
        self.docs.insert(seq, document);
        Ok(())
    }

    pub fn remove(&mut self, seq: u64) -> Option<Document> {
        let old = self.docs.remove(&seq)?;
        self.remove_keys(&old, seq);
        Some(old)
    }

    /// Adds an index, building its keys; fails (adding nothing) on a duplicate.
    pub fn add_index(&mut self, mut index: Index) -> Result<(), CommandError> {
        if index.unique {
            for (seq, document) in &self.docs {
                for (key, shown) in keys_for(&index.key, document, index.sparse) {
                    if index.entries.insert(key, *seq).is_some() {
                        return Err(duplicate_key(&self.namespace, &index, &shown));
                    }
                }
            }
        }
        self.indexes.push(index);
        Ok(())
    }

    pub fn drop_index(&mut self, name: &str) -> bool {
        let before = self.indexes.len();
        self.indexes.retain(|i| i.name != name);
        before != self.indexes.len()
    }

    /// Drops every index but `_id_`.
    pub fn drop_all_indexes(&mut self) {
        self.indexes.retain(|i| i.name == ID_INDEX);
    }

    /// Each unique index's keys for `document`, failing on any taken by
    /// another document than `own`.
    fn unique_keys(
        &self,
        document: &Document,
        own: Option<u64>,
    ) -> Result<Vec<Vec<Vec<u8>>>, CommandError> {
        let mut all = Vec::with_capacity(self.indexes.len());
        for index in &self.indexes {
            let mut keys = Vec::new();
            if index.unique {
                for (key, shown) in keys_for(&index.key, document, index.sparse) {
                    match index.entries.get(&key) {
                        Some(holder) if Some(*holder) != own => {
                            return Err(duplicate_key(&self.namespace, index, &shown));
                        }
                        _ => keys.push(key),
                    }
                }
            }
            all.push(keys);
        }
        Ok(all)
    }

    fn add_keys(&mut self, keys: Vec<Vec<Vec<u8>>>, seq: u64) {
        for (index, keys) in self.indexes.iter_mut().zip(keys) {
            for key in keys {
                index.entries.insert(key, seq);
            }
        }
    }

    fn remove_keys(&mut self, document: &Document, seq: u64) {
        for index in self.indexes.iter_mut().filter(|i| i.unique) {
            for (key, _) in keys_for(&index.key, document, index.sparse) {
                if index.entries.get(&key) == Some(&seq) {
                    index.entries.remove(&key);
                }
            }
        }
    }
}

/// MongoDB's E11000 error, naming the collection, the index and the key.
fn duplicate_key(namespace: &str, index: &Index, key: &Document) -> CommandError {
    let shown: Vec<String> = key.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    CommandError::new(
        code::DUPLICATE_KEY,
        format!(
            "E11000 duplicate key error collection: {namespace} index: {} dup key: {{ {} }}",
            index.name,
            shown.join(", ")
        ),
    )
    .with_details(doc! { "keyPattern": index.key.clone(), "keyValue": key.clone() })
}
