//! `$unwind`: one output document per array element, in the short form
//! (`"$a"`) or the long one (`path`, `includeArrayIndex`,
//! `preserveNullAndEmptyArrays`).

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::path;

/// A parsed `$unwind` stage.
#[derive(Debug, Clone)]
pub struct Unwind {
    path: String,
    include_array_index: Option<String>,
    preserve_null_and_empty: bool,
}

impl Unwind {
    /// Parses `"$path"` or `{path, includeArrayIndex, preserveNullAndEmptyArrays}`.
    pub fn parse(arg: &Bson) -> Result<Unwind, EngineError> {
        match arg {
            Bson::String(p) => Ok(Unwind {
                path: field_path(p)?,
                include_array_index: None,
                preserve_null_and_empty: false,
            }),
            Bson::Document(spec) => {
                let mut unwind = Unwind {
                    path: String::new(),
                    include_array_index: None,
                    preserve_null_and_empty: false,
                };
                for (key, value) in spec {
                    match (key.as_str(), value) {
                        ("path", Bson::String(p)) => unwind.path = field_path(p)?,
                        ("path", _) => {
                            return Err(EngineError::location(
                                28808,
                                "expected a string as the path for $unwind stage",
                            ));
                        }
                        ("includeArrayIndex", Bson::String(name))
                            if !name.is_empty() && !name.starts_with('$') =>
                        {
                            unwind.include_array_index = Some(name.clone());
                        }
                        ("includeArrayIndex", _) => {
                            return Err(EngineError::location(
                                28810,
                                "includeArrayIndex must be a non-empty string not starting with '$'",
                            ));
                        }
                        ("preserveNullAndEmptyArrays", Bson::Boolean(b)) => {
                            unwind.preserve_null_and_empty = *b
                        }
                        ("preserveNullAndEmptyArrays", _) => {
                            return Err(EngineError::location(
                                28809,
                                "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage",
                            ));
                        }
                        (other, _) => {
                            return Err(EngineError::location(
                                28811,
                                format!("unrecognized option to $unwind stage: {other}"),
                            ));
                        }
                    }
                }
                if unwind.path.is_empty() {
                    return Err(EngineError::location(
                        28812,
                        "no path specified to $unwind stage",
                    ));
                }
                Ok(unwind)
            }
            _ => Err(EngineError::location(
                15981,
                "expected either a string or an object as specification for $unwind stage",
            )),
        }
    }

    /// Unwinds every document.
    pub fn run(&self, docs: Vec<Document>) -> Vec<Document> {
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs {
            match path::get(&doc, &self.path).cloned() {
                Some(Bson::Array(items)) if !items.is_empty() => {
                    for (i, item) in items.into_iter().enumerate() {
                        let mut copy = doc.clone();
                        path::set_creating(&mut copy, &self.path, item);
                        self.set_index(
                            &mut copy,
                            Bson::Int64(i64::try_from(i).unwrap_or(i64::MAX)),
                        );
                        out.push(copy);
                    }
                }
                Some(Bson::Array(_)) | Some(Bson::Null) | None => {
                    if self.preserve_null_and_empty {
                        let mut copy = doc;
                        self.set_index(&mut copy, Bson::Null);
                        out.push(copy);
                    }
                }
                // A non-array value unwinds as a one-element array.
                Some(_) => {
                    let mut copy = doc;
                    self.set_index(&mut copy, Bson::Null);
                    out.push(copy);
                }
            }
        }
        out
    }

    fn set_index(&self, doc: &mut Document, index: Bson) {
        if let Some(field) = &self.include_array_index {
            path::set_creating(doc, field, index);
        }
    }
}

fn field_path(text: &str) -> Result<String, EngineError> {
    match text.strip_prefix('$') {
        Some(p) if !p.is_empty() && !p.starts_with('$') => Ok(p.to_owned()),
        _ => Err(EngineError::location(
            28808,
            format!("path option to $unwind stage should be prefixed with a '$': {text}"),
        )),
    }
}
