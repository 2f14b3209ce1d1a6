//! The update that turns a stored document into its new version: `$push`
//! for what was appended to an array, `$set` for what changed, `$unset` for
//! what went away. Pure; the writer sends it instead of the whole document,
//! so a long call's write stays the size of what changed.

use mongodb::bson::{Bson, Document, doc};

/// Operators taking `before` to `after`; empty when they are equal.
pub fn update_of(before: &Document, after: &Document) -> Document {
    let mut ops = Ops::default();
    ops.walk(before, after, "");
    ops.into_update()
}

#[derive(Default)]
struct Ops {
    set: Document,
    push: Document,
    unset: Document,
}

impl Ops {
    fn walk(&mut self, before: &Document, after: &Document, prefix: &str) {
        for (key, new) in after {
            let path = format!("{prefix}{key}");
            match (before.get(key), new) {
                (Some(old), new) if old == new => {}
                (Some(Bson::Array(old)), Bson::Array(new)) => self.array(&path, old, new),
                (Some(Bson::Document(old)), Bson::Document(new))
                    if plain_keys(old) && plain_keys(new) =>
                {
                    self.walk(old, new, &format!("{path}."));
                }
                _ => {
                    self.set.insert(path, new.clone());
                }
            }
        }
        for key in before
            .keys()
            .filter(|key| !after.contains_key(key.as_str()))
        {
            self.unset.insert(format!("{prefix}{key}"), "");
        }
    }

    fn array(&mut self, path: &str, old: &[Bson], new: &[Bson]) {
        if new.len() > old.len() && new.starts_with(old) {
            let tail = new.get(old.len()..).unwrap_or_default().to_vec();
            self.push.insert(path, doc! { "$each": tail });
        } else if new.len() == old.len() {
            for (index, (was, now)) in old.iter().zip(new).enumerate() {
                if was != now {
                    self.set.insert(format!("{path}.{index}"), now.clone());
                }
            }
        } else {
            self.set.insert(path, new.to_vec());
        }
    }

    fn into_update(self) -> Document {
        let mut update = Document::new();
        for (operator, fields) in [
            ("$set", self.set),
            ("$push", self.push),
            ("$unset", self.unset),
        ] {
            if !fields.is_empty() {
                update.insert(operator, fields);
            }
        }
        update
    }
}

/// True when every key can be part of a dotted update path; a sub-document
/// with other keys (ElevenLabs' free-form analysis) is set whole.
fn plain_keys(document: &Document) -> bool {
    document
        .keys()
        .all(|key| !key.is_empty() && !key.contains('.') && !key.starts_with('$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_documents_need_no_update() {
        let doc = doc! { "a": 1, "m": [1, 2], "s": { "x": 1 } };
        assert!(update_of(&doc, &doc).is_empty());
    }

    #[test]
    fn appended_elements_are_pushed_and_changed_fields_set_by_path() {
        let before = doc! { "status": "initiated", "messages": [{ "m": "a" }], "metrics": { "n": 1, "t": 0 } };
        let after = doc! { "status": "in-progress", "messages": [{ "m": "a" }, { "m": "b" }], "metrics": { "n": 2, "t": 0 } };
        assert_eq!(
            update_of(&before, &after),
            doc! {
                "$set": { "status": "in-progress", "metrics.n": 2 },
                "$push": { "messages": { "$each": [{ "m": "b" }] } },
            }
        );
    }

    #[test]
    fn a_changed_element_is_set_alone_and_a_shrunk_array_whole() {
        let before = doc! { "messages": [1, 2, 3], "ids": [1, 2] };
        let after = doc! { "messages": [1, 5, 3], "ids": [] };
        assert_eq!(
            update_of(&before, &after),
            doc! { "$set": { "messages.1": 5, "ids": [] } }
        );
    }

    #[test]
    fn removed_fields_are_unset_and_odd_keys_set_their_parent_whole() {
        let before = doc! { "metadata": { "a.b": 1 }, "gone": true };
        let after = doc! { "metadata": { "a.b": 2 } };
        assert_eq!(
            update_of(&before, &after),
            doc! { "$set": { "metadata": { "a.b": 2 } }, "$unset": { "gone": "" } }
        );
    }

    #[test]
    fn a_type_change_is_set_whole() {
        let before = doc! { "metadata": Bson::Null };
        let after = doc! { "metadata": { "mode": "live" } };
        assert_eq!(
            update_of(&before, &after),
            doc! { "$set": { "metadata": { "mode": "live" } } }
        );
    }
}
