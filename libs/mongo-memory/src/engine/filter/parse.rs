//! Filter documents into clauses and predicates, with MongoDB's validation
//! errors and messages.

use bson::{Bson, Document};

use super::bson_type::TypeSet;
use super::predicate::{Comparison, Member, Predicate};
use super::regex::Pattern;
use super::{Clause, Filter};
use crate::engine::error::EngineError;
use crate::engine::expression::Expression;
use crate::engine::order::Number;

/// Parses a whole filter document.
pub fn filter(doc: &Document) -> Result<Filter, EngineError> {
    let mut clauses = Vec::with_capacity(doc.len());
    for (key, value) in doc {
        if let Some(operator) = key.strip_prefix('$') {
            if let Some(clause) = top_level(operator, value)? {
                clauses.push(clause);
            }
        } else {
            clauses.push(Clause::Field {
                path: key.clone(),
                predicates: field_value(value)?,
            });
        }
    }
    Ok(Filter { clauses })
}

fn top_level(operator: &str, value: &Bson) -> Result<Option<Clause>, EngineError> {
    let clause = match operator {
        "and" => Clause::And(filter_list(operator, value)?),
        "or" => Clause::Or(filter_list(operator, value)?),
        "nor" => Clause::Nor(filter_list(operator, value)?),
        "comment" => return Ok(None),
        "expr" => Clause::Expr(Expression::parse(value)?),
        "where" | "text" | "jsonSchema" | "sampleRate" | "alwaysTrue" | "alwaysFalse" => {
            return Err(EngineError::unsupported(&format!("${operator}")));
        }
        _ => {
            return Err(EngineError::bad_value(format!(
                "unknown top level operator: ${operator}. If you have a field name that starts \
                 with a '$' symbol, consider using $getField or $setField."
            )));
        }
    };
    Ok(Some(clause))
}

fn filter_list(operator: &str, value: &Bson) -> Result<Vec<Filter>, EngineError> {
    let items = match value {
        Bson::Array(items) if !items.is_empty() => items,
        _ => {
            return Err(EngineError::bad_value(format!(
                "${operator} must be a nonempty array"
            )));
        }
    };
    items
        .iter()
        .map(|item| match item {
            Bson::Document(doc) => filter(doc),
            _ => Err(EngineError::bad_value(format!(
                "${operator} argument's entries must be objects"
            ))),
        })
        .collect()
}

/// Whether a field's value is an operator object (`{$gt: 1}`) rather than a
/// literal document to compare with.
pub fn is_operator_object(doc: &Document) -> bool {
    doc.keys()
        .next()
        .is_some_and(|k| k.starts_with('$') && !matches!(k.as_str(), "$ref" | "$id" | "$db"))
}

fn field_value(value: &Bson) -> Result<Vec<Predicate>, EngineError> {
    match value {
        Bson::Document(doc) if is_operator_object(doc) => operators(doc),
        other => Ok(vec![literal(other)?]),
    }
}

/// A literal field value: equality, or a pattern match for a BSON regex.
pub fn literal(value: &Bson) -> Result<Predicate, EngineError> {
    match value {
        Bson::RegularExpression(regex) => Ok(Predicate::Regex(Pattern::from_bson(regex)?)),
        other => Ok(Predicate::Eq(other.clone())),
    }
}

/// Parses an operator object such as `{$gte: 1, $lt: 5}`.
pub fn operators(doc: &Document) -> Result<Vec<Predicate>, EngineError> {
    let mut predicates = Vec::with_capacity(doc.len());
    for (key, value) in doc {
        match key.as_str() {
            "$regex" => predicates.push(regex_operator(value, doc.get("$options"))?),
            "$options" => {
                if !doc.contains_key("$regex") {
                    return Err(EngineError::bad_value("$options needs a $regex"));
                }
            }
            _ => predicates.push(operator(key, value)?),
        }
    }
    Ok(predicates)
}

fn regex_operator(value: &Bson, options: Option<&Bson>) -> Result<Predicate, EngineError> {
    let options = match options {
        None => None,
        Some(Bson::String(o)) => Some(o.as_str()),
        Some(_) => return Err(EngineError::bad_value("$options has to be a string")),
    };
    let pattern = match value {
        Bson::String(p) => Pattern::new(p, options.unwrap_or(""))?,
        Bson::RegularExpression(r) => match options {
            Some(o) if !r.options.is_empty() && !o.is_empty() => {
                return Err(EngineError::bad_value(
                    "options set in both $regex and $options",
                ));
            }
            Some(o) if !o.is_empty() => Pattern::new(&r.pattern, o)?,
            _ => Pattern::from_bson(r)?,
        },
        _ => return Err(EngineError::bad_value("$regex has to be a string")),
    };
    Ok(Predicate::Regex(pattern))
}

fn operator(key: &str, value: &Bson) -> Result<Predicate, EngineError> {
    let predicate = match key {
        "$eq" => Predicate::Eq(value.clone()),
        "$ne" => Predicate::Ne(value.clone()),
        "$gt" => Predicate::Compare(Comparison::Gt, value.clone()),
        "$gte" => Predicate::Compare(Comparison::Gte, value.clone()),
        "$lt" => Predicate::Compare(Comparison::Lt, value.clone()),
        "$lte" => Predicate::Compare(Comparison::Lte, value.clone()),
        "$in" => Predicate::In(members(key, value)?),
        "$nin" => Predicate::Nin(members(key, value)?),
        "$exists" => Predicate::Exists(truthy(value)),
        "$type" => Predicate::Type(TypeSet::parse(value)?),
        "$not" => not_operator(value)?,
        "$elemMatch" => elem_match(value)?,
        "$size" => Predicate::Size(size(value)?),
        "$all" => all(value)?,
        "$mod" => modulo(value)?,
        "$geoWithin" | "$geoIntersects" | "$near" | "$nearSphere" | "$within" | "$bitsAllSet"
        | "$bitsAllClear" | "$bitsAnySet" | "$bitsAnyClear" | "$jsonSchema" => {
            return Err(EngineError::unsupported(key));
        }
        _ => return Err(EngineError::bad_value(format!("unknown operator: {key}"))),
    };
    Ok(predicate)
}

fn truthy(value: &Bson) -> bool {
    match value {
        Bson::Boolean(b) => *b,
        Bson::Null | Bson::Undefined => false,
        other => Number::of(other).is_none_or(|n| n.as_f64() != 0.0),
    }
}

fn members(key: &str, value: &Bson) -> Result<Vec<Member>, EngineError> {
    let Bson::Array(items) = value else {
        return Err(EngineError::bad_value(format!("{key} needs an array")));
    };
    items
        .iter()
        .map(|item| match item {
            Bson::RegularExpression(r) => Ok(Member::Pattern(Pattern::from_bson(r)?)),
            Bson::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')) => {
                Err(EngineError::bad_value(format!("cannot nest $ under {key}")))
            }
            other => Ok(Member::Value(other.clone())),
        })
        .collect()
}

fn not_operator(value: &Bson) -> Result<Predicate, EngineError> {
    match value {
        Bson::RegularExpression(r) => Ok(Predicate::Not(vec![Predicate::Regex(
            Pattern::from_bson(r)?,
        )])),
        Bson::Document(doc) if doc.is_empty() => {
            Err(EngineError::bad_value("$not cannot be empty"))
        }
        Bson::Document(doc) if is_operator_object(doc) => Ok(Predicate::Not(operators(doc)?)),
        Bson::Document(doc) => Err(EngineError::bad_value(format!(
            "unknown operator: {}",
            doc.keys().next().map_or("", String::as_str)
        ))),
        _ => Err(EngineError::bad_value("$not needs a regex or a document")),
    }
}

fn elem_match(value: &Bson) -> Result<Predicate, EngineError> {
    let Bson::Document(doc) = value else {
        return Err(EngineError::bad_value("$elemMatch needs an Object"));
    };
    let value_form = doc.keys().next().is_some_and(|k| {
        k.starts_with('$') && !matches!(k.as_str(), "$and" | "$or" | "$nor" | "$expr" | "$where")
    });
    if value_form {
        Ok(Predicate::ElemMatchValue(operators(doc)?))
    } else {
        Ok(Predicate::ElemMatchQuery(filter(doc)?))
    }
}

fn size(value: &Bson) -> Result<usize, EngineError> {
    let number = Number::of(value).ok_or_else(|| EngineError::bad_value("$size needs a number"))?;
    let whole = number
        .as_i64()
        .ok_or_else(|| EngineError::bad_value("$size must be a whole number"))?;
    usize::try_from(whole).map_err(|_| EngineError::bad_value("$size may not be negative"))
}

fn all(value: &Bson) -> Result<Predicate, EngineError> {
    let Bson::Array(items) = value else {
        return Err(EngineError::bad_value("$all needs an array"));
    };
    let elem_matches: Vec<&Document> = items
        .iter()
        .filter_map(|item| match item {
            Bson::Document(d) if d.keys().next().is_some_and(|k| k == "$elemMatch") => Some(d),
            _ => None,
        })
        .collect();
    if elem_matches.is_empty() {
        return Ok(Predicate::All(members("$all", value)?));
    }
    if elem_matches.len() != items.len() {
        return Err(EngineError::bad_value(
            "$all/$elemMatch has to be consistent",
        ));
    }
    let predicates = elem_matches
        .into_iter()
        .map(|d| elem_match(d.get("$elemMatch").unwrap_or(&Bson::Null)))
        .collect::<Result<_, _>>()?;
    Ok(Predicate::AllElemMatch(predicates))
}

fn modulo(value: &Bson) -> Result<Predicate, EngineError> {
    let parts: Option<Vec<Number>> = match value {
        Bson::Array(items) => items.iter().map(Number::of).collect(),
        _ => None,
    };
    match parts.as_deref() {
        Some([divisor, remainder]) => {
            let divisor = divisor.as_i64().unwrap_or(divisor.as_f64().trunc() as i64);
            let remainder = remainder
                .as_i64()
                .unwrap_or(remainder.as_f64().trunc() as i64);
            if divisor == 0 {
                return Err(EngineError::bad_value("divisor cannot be 0"));
            }
            Ok(Predicate::Mod { divisor, remainder })
        }
        _ => Err(EngineError::bad_value(
            "malformed mod, needs to be an array of two numbers",
        )),
    }
}
