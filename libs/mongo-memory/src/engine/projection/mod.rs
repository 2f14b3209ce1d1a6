//! Projections as `find` and `$project` take them: inclusion (`{a: 1}`),
//! exclusion (`{a: 0}`), `_id` included unless excluded, dotted paths that
//! reach into embedded documents and arrays of them, computed fields
//! (aggregation expressions), and in `find` the `$slice` and `$elemMatch`
//! projection operators.
//!
//! * `apply` — shaping one document with a parsed projection.

mod apply;

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::expression::Expression;
use crate::engine::filter::Filter;
use crate::engine::order::Number;

/// A parsed projection.
#[derive(Debug, Clone)]
pub struct Projection {
    inclusion: bool,
    /// Include/exclude/`$slice`/`$elemMatch` by path, as a tree.
    tree: Tree,
    /// Fields computed from expressions, by full dotted path.
    computed: Vec<(String, Expression)>,
    /// `None` keeps `_id` as is (included by default).
    id: IdRule,
}

#[derive(Debug, Clone, PartialEq)]
enum IdRule {
    Keep,
    Drop,
    Computed,
}

type Tree = Vec<(String, Node)>;

#[derive(Debug, Clone)]
enum Node {
    Include,
    Exclude,
    Nested(Tree),
    Slice {
        skip: Option<i64>,
        limit: i64,
    },
    ElemMatch(Filter),
    /// Placeholder for a computed field, so paths cannot collide with it.
    Computed,
}

/// Which command's rules apply: `find` knows `$slice`/`$elemMatch`
/// projection operators; `$project` reads those names as expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Find,
    Aggregate,
}

impl Projection {
    /// Parses a `find` projection (`{}` returns whole documents).
    pub fn parse(spec: &Document) -> Result<Projection, EngineError> {
        Builder::new(Context::Find).build(spec)
    }

    /// Parses a `$project` stage specification.
    pub fn parse_aggregate(spec: &Document) -> Result<Projection, EngineError> {
        if spec.is_empty() {
            return Err(EngineError::location(
                51272,
                "Invalid $project :: caused by :: projection specification must have at least \
                 one field",
            ));
        }
        Builder::new(Context::Aggregate).build(spec)
    }

    /// An exclusion projection removing the given paths (`$unset`).
    pub fn exclusion(paths: &[String]) -> Result<Projection, EngineError> {
        let mut spec = Document::new();
        for path in paths {
            spec.insert(path.clone(), 0);
        }
        Builder::new(Context::Aggregate).build(&spec)
    }

    /// Shapes one document.
    pub fn apply(&self, doc: &Document) -> Result<Document, EngineError> {
        apply::project(self, doc)
    }
}

struct Builder {
    context: Context,
    mode: Option<(bool, String)>,
    id: IdRule,
    tree: Tree,
    computed: Vec<(String, Expression)>,
}

impl Builder {
    fn new(context: Context) -> Builder {
        Builder {
            context,
            mode: None,
            id: IdRule::Keep,
            tree: Vec::new(),
            computed: Vec::new(),
        }
    }

    fn build(mut self, spec: &Document) -> Result<Projection, EngineError> {
        self.fields("", spec)?;
        let inclusion = match self.mode {
            Some((inclusion, _)) => inclusion,
            // Nothing but `_id` and `$slice`: `{_id: 1}` includes only `_id`;
            // `{_id: 0}` and `{a: {$slice: 2}}` keep every other field.
            None => spec.contains_key("_id") && self.id != IdRule::Drop,
        };
        Ok(Projection {
            inclusion,
            tree: self.tree,
            computed: self.computed,
            id: self.id,
        })
    }

    fn fields(&mut self, prefix: &str, spec: &Document) -> Result<(), EngineError> {
        for (key, value) in spec {
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(EngineError::location(
                    40352,
                    "FieldPath cannot be constructed with empty string",
                ));
            }
            if key.starts_with('$') {
                return Err(EngineError::location(
                    16410,
                    format!("FieldPath field names may not start with '$'. Got '{key}'"),
                ));
            }
            if key.ends_with(".$") {
                return Err(EngineError::unsupported(
                    "the positional projection operator '$'",
                ));
            }
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            self.field(&path, value)?;
        }
        Ok(())
    }

    fn field(&mut self, path: &str, value: &Bson) -> Result<(), EngineError> {
        let flag = match value {
            Bson::Boolean(b) => Some(*b),
            other => Number::of(other).map(|n| n.as_f64() != 0.0),
        };
        if let Some(include) = flag {
            if path == "_id" {
                self.id = if include { IdRule::Keep } else { IdRule::Drop };
                return Ok(());
            }
            self.set_mode(include, path)?;
            return self.insert(
                path,
                if include {
                    Node::Include
                } else {
                    Node::Exclude
                },
            );
        }
        let Bson::Document(doc) = value else {
            return self.computed(path, value);
        };
        let first = doc.keys().next().map(String::as_str);
        match (self.context, first) {
            (Context::Find, Some("$slice")) => self.insert(path, slice(doc)?),
            (Context::Find, Some("$elemMatch")) => {
                let Some(Bson::Document(query)) = doc.get("$elemMatch") else {
                    return Err(EngineError::bad_value(
                        "elemMatch: Invalid argument, object required.",
                    ));
                };
                self.set_mode(true, path)?;
                self.insert(path, Node::ElemMatch(Filter::parse(query)?))
            }
            (_, Some(op)) if op.starts_with('$') => self.computed(path, value),
            (_, Some(_)) => self.fields(path, doc),
            (_, None) => Err(EngineError::location(
                51270,
                "An empty sub-projection is not a valid value. Found empty object at path",
            )),
        }
    }

    fn computed(&mut self, path: &str, value: &Bson) -> Result<(), EngineError> {
        let expression = Expression::parse(value)?;
        if path == "_id" {
            self.id = IdRule::Computed;
        } else {
            self.set_mode(true, path)?;
            self.insert(path, Node::Computed)?;
        }
        self.computed.push((path.to_owned(), expression));
        Ok(())
    }

    fn set_mode(&mut self, inclusion: bool, path: &str) -> Result<(), EngineError> {
        match &self.mode {
            None => {
                self.mode = Some((inclusion, path.to_owned()));
                Ok(())
            }
            Some((current, _)) if *current == inclusion => Ok(()),
            Some((true, _)) => Err(EngineError::location(
                31253,
                format!("Cannot do exclusion on field {path} in inclusion projection"),
            )),
            Some((false, _)) => Err(EngineError::location(
                31254,
                format!("Cannot do inclusion on field {path} in exclusion projection"),
            )),
        }
    }

    fn insert(&mut self, path: &str, node: Node) -> Result<(), EngineError> {
        let parts: Vec<&str> = path.split('.').collect();
        insert_into(&mut self.tree, &parts, node, path)
    }
}

fn insert_into(tree: &mut Tree, parts: &[&str], node: Node, full: &str) -> Result<(), EngineError> {
    let collision = || EngineError::location(31249, format!("Path collision at {full}"));
    let Some((first, rest)) = parts.split_first() else {
        return Err(collision());
    };
    let existing = tree.iter_mut().find(|(name, _)| name == first);
    match (existing, rest.is_empty()) {
        (None, true) => tree.push(((*first).to_owned(), node)),
        (None, false) => {
            let mut child = Vec::new();
            insert_into(&mut child, rest, node, full)?;
            tree.push(((*first).to_owned(), Node::Nested(child)));
        }
        (Some((_, Node::Nested(child))), false) => insert_into(child, rest, node, full)?,
        (Some(_), _) => return Err(collision()),
    }
    Ok(())
}

fn slice(doc: &Document) -> Result<Node, EngineError> {
    let arg = doc.get("$slice").unwrap_or(&Bson::Null);
    let whole = |v: &Bson| Number::of(v).map(|n| n.as_i64().unwrap_or(n.as_f64().trunc() as i64));
    match arg {
        Bson::Array(items) => match items.as_slice() {
            [skip, limit] => {
                let (Some(skip), Some(limit)) = (whole(skip), whole(limit)) else {
                    return Err(EngineError::location(
                        28724,
                        "First argument to $slice must be an array",
                    ));
                };
                if limit <= 0 {
                    return Err(EngineError::location(
                        28724,
                        "Second argument to $slice must be positive",
                    ));
                }
                Ok(Node::Slice {
                    skip: Some(skip),
                    limit,
                })
            }
            _ => Err(EngineError::location(28724, "$slice array wrong size")),
        },
        other => whole(other)
            .map(|limit| Node::Slice { skip: None, limit })
            .ok_or_else(|| {
                EngineError::location(
                    28724,
                    "$slice only supports numbers and [skip, limit] arrays",
                )
            }),
    }
}

#[cfg(test)]
mod tests;
