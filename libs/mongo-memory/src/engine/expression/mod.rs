//! Aggregation expressions: field paths (`"$a.b"`), system variables
//! (`$$ROOT`, `$$CURRENT`, `$$REMOVE`), literals, object and array literals,
//! and operators (`{$add: [...]}`). Parsed once, evaluated per document.
//! A missing value is `None`, distinct from `null`, as in MongoDB.
//!
//! * `operators` — the operator table, parsing, and evaluation.
//! * `arithmetic` — `$add $subtract $multiply $divide $mod $abs $floor
//!   $ceil $round $trunc`.
//! * `arrays` — `$arrayElemAt $first $last $reverseArray $concatArrays $in
//!   $size`.
//! * `text` — `$concat $toLower $toUpper $toString`.
//! * `convert` — `$toInt $toLong $toDouble $toBool`.
//! * `dates` — `$dateToString` and date parts, in UTC.

mod arithmetic;
mod arrays;
mod convert;
mod dates;
mod operators;
mod text;

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use operators::Operator;

/// A parsed aggregation expression.
#[derive(Debug, Clone)]
pub enum Expression {
    /// A constant.
    Literal(Bson),
    /// `"$a.b"` or `"$$ROOT.a.b"`: a path from the current document (empty
    /// for `$$ROOT` itself).
    Path(Vec<String>),
    /// `$$REMOVE`: evaluates to missing.
    Remove,
    /// `{a: <expr>, b: <expr>}`.
    Object(Vec<(String, Expression)>),
    /// `[<expr>, …]`.
    Array(Vec<Expression>),
    /// `{$op: args}`.
    Operator(Operator, Vec<Expression>),
}

impl Expression {
    /// Parses an expression.
    pub fn parse(value: &Bson) -> Result<Expression, EngineError> {
        match value {
            Bson::String(s) if s.starts_with('$') => parse_path(s),
            Bson::Array(items) => Ok(Expression::Array(
                items
                    .iter()
                    .map(Expression::parse)
                    .collect::<Result<_, _>>()?,
            )),
            Bson::Document(doc) => parse_document(doc),
            other => Ok(Expression::Literal(other.clone())),
        }
    }

    /// Evaluates against a document; `Ok(None)` means missing.
    pub fn evaluate(&self, root: &Document) -> Result<Option<Bson>, EngineError> {
        match self {
            Expression::Literal(value) => Ok(Some(value.clone())),
            Expression::Path(parts) if parts.is_empty() => Ok(Some(Bson::Document(root.clone()))),
            Expression::Path(parts) => Ok(walk_document(root, parts)),
            Expression::Remove => Ok(None),
            Expression::Object(fields) => {
                let mut out = Document::new();
                for (name, expr) in fields {
                    if let Some(value) = expr.evaluate(root)? {
                        out.insert(name.clone(), value);
                    }
                }
                Ok(Some(Bson::Document(out)))
            }
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(item.evaluate(root)?.unwrap_or(Bson::Null));
                }
                Ok(Some(Bson::Array(out)))
            }
            Expression::Operator(op, args) => operators::evaluate(*op, args, root),
        }
    }

    /// Evaluates, turning a missing result into `null`.
    pub fn evaluate_or_null(&self, root: &Document) -> Result<Bson, EngineError> {
        Ok(self.evaluate(root)?.unwrap_or(Bson::Null))
    }
}

fn parse_path(text: &str) -> Result<Expression, EngineError> {
    let Some(variable) = text.strip_prefix("$$") else {
        return field_path(&text[1..]);
    };
    let (name, rest) = variable.split_once('.').unwrap_or((variable, ""));
    match name {
        "ROOT" | "CURRENT" if rest.is_empty() => Ok(Expression::Path(Vec::new())),
        "ROOT" | "CURRENT" => field_path(rest),
        "REMOVE" => Ok(Expression::Remove),
        "NOW" | "CLUSTER_TIME" | "SEARCH_META" | "USER_ROLES" => {
            Err(EngineError::unsupported(&format!("$${name}")))
        }
        _ => Err(EngineError::location(
            17276,
            format!("Use of undefined variable: {name}"),
        )),
    }
}

fn field_path(path: &str) -> Result<Expression, EngineError> {
    if path.is_empty() {
        return Err(EngineError::location(
            16872,
            "'$' by itself is not a valid FieldPath",
        ));
    }
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) {
        return Err(EngineError::location(
            15998,
            "FieldPath field names may not be empty strings.",
        ));
    }
    if parts.iter().any(|p| p.starts_with('$')) {
        return Err(EngineError::location(
            16410,
            "FieldPath field names may not start with '$'.",
        ));
    }
    Ok(Expression::Path(parts))
}

fn parse_document(doc: &Document) -> Result<Expression, EngineError> {
    let Some(first) = doc.keys().next() else {
        return Ok(Expression::Object(Vec::new()));
    };
    if first.starts_with('$') {
        if doc.len() != 1 {
            return Err(EngineError::location(
                15983,
                format!(
                    "an expression specification must contain exactly one field, the name of \
                     the expression. Found {} fields in {doc}",
                    doc.len()
                ),
            ));
        }
        let arg = doc.get(first).unwrap_or(&Bson::Null);
        return operators::parse(first, arg);
    }
    let mut fields = Vec::with_capacity(doc.len());
    for (name, value) in doc {
        if name.starts_with('$') {
            return Err(EngineError::location(
                16410,
                format!("FieldPath field names may not start with '$'. Got '{name}'"),
            ));
        }
        fields.push((name.clone(), Expression::parse(value)?));
    }
    Ok(Expression::Object(fields))
}

/// Aggregation path semantics: through an array, the path maps over the
/// elements (recursively for nested arrays) and collects what it finds.
fn walk_document(doc: &Document, parts: &[String]) -> Option<Bson> {
    let (first, rest) = parts.split_first()?;
    let value = doc.get(first)?;
    walk_value(value, rest)
}

fn walk_value(value: &Bson, parts: &[String]) -> Option<Bson> {
    if parts.is_empty() {
        return Some(value.clone());
    }
    match value {
        Bson::Document(doc) => walk_document(doc, parts),
        Bson::Array(items) => Some(Bson::Array(
            items
                .iter()
                .filter_map(|item| match item {
                    Bson::Document(_) | Bson::Array(_) => walk_value(item, parts),
                    _ => None,
                })
                .collect(),
        )),
        _ => None,
    }
}

/// Null, undefined or missing: what most operators turn into null.
fn is_nullish(value: &Option<Bson>) -> bool {
    matches!(value, None | Some(Bson::Null | Bson::Undefined))
}

/// Aggregation truthiness: false, null, missing, undefined and zero are false.
pub fn truthy(value: Option<&Bson>) -> bool {
    match value {
        None | Some(Bson::Null | Bson::Undefined | Bson::Boolean(false)) => false,
        Some(other) => crate::engine::order::Number::of(other).is_none_or(|n| n.as_f64() != 0.0),
    }
}

#[cfg(test)]
mod tests;
