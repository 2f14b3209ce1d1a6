//! Stage documents into [`Stage`]s, with MongoDB's errors for unknown,
//! unsupported and malformed stages.

use bson::{Bson, Document};

use super::group::Group;
use super::unwind::Unwind;
use crate::engine::error::EngineError;
use crate::engine::expression::Expression;
use crate::engine::filter::Filter;
use crate::engine::order::Number;
use crate::engine::path;
use crate::engine::projection::Projection;
use crate::engine::sort::SortSpec;

/// One parsed pipeline stage.
#[derive(Debug, Clone)]
pub enum Stage {
    Match(Filter),
    Group(Group),
    Count(String),
    Sort(SortSpec),
    Limit(i64),
    Skip(i64),
    Project(Projection),
    AddFields(Vec<(String, Expression)>),
    Unwind(Unwind),
    Facet(Vec<(String, Vec<Stage>)>),
    ReplaceRoot(Expression),
    /// Stages that one stage name stands for (`$sortByCount`).
    Sequence(Vec<Stage>),
}

/// Stages MongoDB has that need another collection, the server, or
/// features this engine lacks.
const UNSUPPORTED: &[&str] = &[
    "$lookup",
    "$graphLookup",
    "$unionWith",
    "$out",
    "$merge",
    "$bucket",
    "$bucketAuto",
    "$sample",
    "$geoNear",
    "$densify",
    "$fill",
    "$setWindowFields",
    "$redact",
    "$indexStats",
    "$collStats",
    "$currentOp",
    "$listSessions",
    "$listLocalSessions",
    "$changeStream",
    "$search",
    "$searchMeta",
    "$vectorSearch",
    "$documents",
    "$planCacheStats",
    "$listSearchIndexes",
    "$changeStreamSplitLargeEvent",
];

/// Parses every stage of a pipeline (`in_facet` forbids nested `$facet`).
pub fn parse_pipeline(pipeline: &[Document], in_facet: bool) -> Result<Vec<Stage>, EngineError> {
    pipeline
        .iter()
        .map(|stage| parse(stage, in_facet))
        .collect()
}

fn parse(stage: &Document, in_facet: bool) -> Result<Stage, EngineError> {
    let mut fields = stage.iter();
    let (Some((name, arg)), None) = (fields.next(), fields.next()) else {
        return Err(EngineError::location(
            40323,
            "A pipeline stage specification object must contain exactly one field.",
        ));
    };
    let parsed = match name.as_str() {
        "$match" => Stage::Match(Filter::parse(document(name, arg, 15959)?)?),
        "$group" => Stage::Group(Group::parse(arg)?),
        "$count" => Stage::Count(count_field(arg)?),
        "$sort" => {
            let spec = document(name, arg, 15973)?;
            if spec.is_empty() {
                return Err(EngineError::location(
                    15976,
                    "$sort stage must have at least one sort key",
                ));
            }
            Stage::Sort(SortSpec::parse(spec)?)
        }
        "$limit" => match whole(arg) {
            Some(n) if n > 0 => Stage::Limit(n),
            Some(_) => return Err(EngineError::location(15958, "the limit must be positive")),
            None => {
                return Err(EngineError::location(
                    15957,
                    "the limit must be specified as a number",
                ));
            }
        },
        "$skip" => match whole(arg) {
            Some(n) if n >= 0 => Stage::Skip(n),
            Some(_) => {
                return Err(EngineError::location(
                    15956,
                    "Argument to $skip cannot be negative",
                ));
            }
            None => {
                return Err(EngineError::location(
                    15972,
                    "Argument to $skip must be a number",
                ));
            }
        },
        "$project" => Stage::Project(Projection::parse_aggregate(document(name, arg, 15969)?)?),
        "$addFields" | "$set" => Stage::AddFields(new_fields(name, arg)?),
        "$unset" => Stage::Project(Projection::exclusion(&unset_fields(arg)?)?),
        "$unwind" => Stage::Unwind(Unwind::parse(arg)?),
        "$facet" if in_facet => {
            return Err(EngineError::location(
                40600,
                "$facet is not allowed to be used within a $facet stage",
            ));
        }
        "$facet" => Stage::Facet(facets(arg)?),
        "$sortByCount" => return sort_by_count(arg),
        "$replaceRoot" => {
            let spec = document(name, arg, 40228)?;
            let root = spec.get("newRoot").ok_or_else(|| {
                EngineError::location(40231, "no newRoot specified for the $replaceRoot stage")
            })?;
            if let Some(extra) = spec.keys().find(|k| *k != "newRoot") {
                return Err(EngineError::location(
                    40415,
                    format!("BSON field '$replaceRoot.{extra}' is an unknown field."),
                ));
            }
            Stage::ReplaceRoot(Expression::parse(root)?)
        }
        "$replaceWith" => Stage::ReplaceRoot(Expression::parse(arg)?),
        other if UNSUPPORTED.contains(&other) => {
            return Err(EngineError::unsupported(&format!("the {other} stage")));
        }
        other => {
            return Err(EngineError::location(
                40324,
                format!("Unrecognized pipeline stage name: '{other}'"),
            ));
        }
    };
    Ok(parsed)
}

fn document<'a>(name: &str, arg: &'a Bson, code: i32) -> Result<&'a Document, EngineError> {
    match arg {
        Bson::Document(doc) => Ok(doc),
        _ => Err(EngineError::location(
            code,
            format!("the {name} specification must be an object"),
        )),
    }
}

fn whole(value: &Bson) -> Option<i64> {
    Number::of(value).and_then(|n| n.as_i64())
}

fn count_field(arg: &Bson) -> Result<String, EngineError> {
    let Bson::String(field) = arg else {
        return Err(EngineError::location(
            40156,
            "the count field must be a non-empty string",
        ));
    };
    if field.is_empty() {
        return Err(EngineError::location(
            40157,
            "the count field must be a non-empty string",
        ));
    }
    if field.starts_with('$') {
        return Err(EngineError::location(
            40158,
            "the count field cannot be a $-prefixed path",
        ));
    }
    if field.contains('.') {
        return Err(EngineError::location(
            40160,
            "the count field cannot contain '.'",
        ));
    }
    Ok(field.clone())
}

fn new_fields(name: &str, arg: &Bson) -> Result<Vec<(String, Expression)>, EngineError> {
    let spec = document(name, arg, 40272)?;
    let mut fields = Vec::with_capacity(spec.len());
    collect_new_fields("", spec, &mut fields)?;
    Ok(fields)
}

/// A nested plain document in `$addFields` names sub-fields (`{a: {b: 1}}`
/// sets `a.b`), as in a projection; anything else is an expression.
fn collect_new_fields(
    prefix: &str,
    spec: &Document,
    out: &mut Vec<(String, Expression)>,
) -> Result<(), EngineError> {
    for (field, value) in spec {
        if field.starts_with('$') || field.split('.').any(str::is_empty) {
            return Err(EngineError::location(
                16410,
                format!("FieldPath field names may not start with '$' or be empty. Got '{field}'"),
            ));
        }
        let path = if prefix.is_empty() {
            field.clone()
        } else {
            format!("{prefix}.{field}")
        };
        match value {
            Bson::Document(nested)
                if !nested.is_empty() && !nested.keys().any(|k| k.starts_with('$')) =>
            {
                collect_new_fields(&path, nested, out)?;
            }
            other => out.push((path, Expression::parse(other)?)),
        }
    }
    Ok(())
}

/// `$addFields`: evaluate every expression against the input, then set.
pub fn add_fields(fields: &[(String, Expression)], doc: Document) -> Result<Document, EngineError> {
    let mut values = Vec::with_capacity(fields.len());
    for (field, expression) in fields {
        values.push((field, expression.evaluate(&doc)?));
    }
    let mut out = doc;
    for (field, value) in values {
        match value {
            Some(value) => path::set_computed(&mut out, field, &value),
            None => path::remove(&mut out, field),
        }
    }
    Ok(out)
}

fn unset_fields(arg: &Bson) -> Result<Vec<String>, EngineError> {
    let invalid = || {
        EngineError::location(
            31002,
            "$unset specification must be a string or an array containing only string values",
        )
    };
    match arg {
        Bson::String(field) => Ok(vec![field.clone()]),
        Bson::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect(),
        _ => Err(invalid()),
    }
}

fn facets(arg: &Bson) -> Result<Vec<(String, Vec<Stage>)>, EngineError> {
    let spec = document("$facet", arg, 15947)?;
    if spec.is_empty() {
        return Err(EngineError::location(
            40169,
            "the $facet specification must be a non-empty object",
        ));
    }
    spec.iter()
        .map(|(name, pipeline)| {
            let Bson::Array(stages) = pipeline else {
                return Err(EngineError::location(
                    40170,
                    format!(
                        "arguments to $facet must be arrays, {name} is type {}",
                        crate::engine::filter::type_name(pipeline)
                    ),
                ));
            };
            let stages: Vec<Document> = stages
                .iter()
                .map(|s| {
                    s.as_document().cloned().ok_or_else(|| {
                        EngineError::location(40171, "subpipeline stages must be objects")
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok((name.clone(), parse_pipeline(&stages, true)?))
        })
        .collect()
}

/// `$sortByCount: <expr>` is `$group` by the expression counting, then a
/// descending sort on the count.
fn sort_by_count(arg: &Bson) -> Result<Stage, EngineError> {
    let is_path = matches!(arg, Bson::String(s) if s.starts_with('$'));
    let is_operator =
        matches!(arg, Bson::Document(d) if d.len() == 1 && d.keys().all(|k| k.starts_with('$')));
    if !is_path && !is_operator {
        return Err(EngineError::location(
            40148,
            "the sortByCount field must be defined as a $-prefixed path or an expression",
        ));
    }
    let mut group = Document::new();
    group.insert("_id", arg.clone());
    group.insert("count", bson::doc! { "$sum": 1 });
    let stages = vec![
        Stage::Group(Group::parse(&Bson::Document(group))?),
        Stage::Sort(SortSpec::parse(&bson::doc! { "count": -1 })?),
    ];
    Ok(Stage::Sequence(stages))
}
