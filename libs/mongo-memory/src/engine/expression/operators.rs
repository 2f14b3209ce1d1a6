//! Expression operators: parsing their arguments and evaluating them with
//! MongoDB's type rules and error codes.

use std::cmp::Ordering;

use bson::{Bson, Document};

use super::{Expression, arithmetic, arrays, convert, dates, is_nullish, text, truthy};
use crate::engine::error::EngineError;
use crate::engine::filter::type_name;
use crate::engine::order;

/// The operators this engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Mod,
    Concat,
    ToLower,
    ToUpper,
    Cond,
    IfNull,
    Cmp,
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    And,
    Or,
    Not,
    Size,
    Sum,
    Avg,
    Min,
    Max,
    ArrayElemAt,
    In,
    ConcatArrays,
    IsArray,
    Type,
    First,
    Last,
    ReverseArray,
    MergeObjects,
    ToString,
    ToInt,
    ToLong,
    ToDouble,
    ToBool,
    Abs,
    Floor,
    Ceil,
    Round,
    Trunc,
    DateToString,
    /// `$year`, `$month`, … by name.
    DatePart(&'static str),
}

const OPERATORS: &[(&str, Operator)] = &[
    ("$add", Operator::Add),
    ("$subtract", Operator::Subtract),
    ("$multiply", Operator::Multiply),
    ("$divide", Operator::Divide),
    ("$mod", Operator::Mod),
    ("$concat", Operator::Concat),
    ("$toLower", Operator::ToLower),
    ("$toUpper", Operator::ToUpper),
    ("$cond", Operator::Cond),
    ("$ifNull", Operator::IfNull),
    ("$cmp", Operator::Cmp),
    ("$eq", Operator::Eq),
    ("$ne", Operator::Ne),
    ("$gt", Operator::Gt),
    ("$gte", Operator::Gte),
    ("$lt", Operator::Lt),
    ("$lte", Operator::Lte),
    ("$and", Operator::And),
    ("$or", Operator::Or),
    ("$not", Operator::Not),
    ("$size", Operator::Size),
    ("$sum", Operator::Sum),
    ("$avg", Operator::Avg),
    ("$min", Operator::Min),
    ("$max", Operator::Max),
    ("$arrayElemAt", Operator::ArrayElemAt),
    ("$in", Operator::In),
    ("$concatArrays", Operator::ConcatArrays),
    ("$isArray", Operator::IsArray),
    ("$type", Operator::Type),
    ("$first", Operator::First),
    ("$last", Operator::Last),
    ("$reverseArray", Operator::ReverseArray),
    ("$mergeObjects", Operator::MergeObjects),
    ("$toString", Operator::ToString),
    ("$toInt", Operator::ToInt),
    ("$toLong", Operator::ToLong),
    ("$toDouble", Operator::ToDouble),
    ("$toBool", Operator::ToBool),
    ("$abs", Operator::Abs),
    ("$floor", Operator::Floor),
    ("$ceil", Operator::Ceil),
    ("$round", Operator::Round),
    ("$trunc", Operator::Trunc),
    ("$dateToString", Operator::DateToString),
    ("$year", Operator::DatePart("$year")),
    ("$month", Operator::DatePart("$month")),
    ("$dayOfMonth", Operator::DatePart("$dayOfMonth")),
    ("$hour", Operator::DatePart("$hour")),
    ("$minute", Operator::DatePart("$minute")),
    ("$second", Operator::DatePart("$second")),
    ("$millisecond", Operator::DatePart("$millisecond")),
    ("$dayOfWeek", Operator::DatePart("$dayOfWeek")),
    ("$dayOfYear", Operator::DatePart("$dayOfYear")),
    ("$week", Operator::DatePart("$week")),
];

/// MongoDB expressions this engine knows of but does not evaluate.
#[rustfmt::skip]
const UNSUPPORTED: &[&str] = &[
    "$dateFromString", "$dateFromParts", "$dateToParts", "$dateAdd", "$dateSubtract", "$dateDiff",
    "$dateTrunc", "$toDate", "$convert", "$toDecimal", "$toObjectId", "$map", "$filter", "$reduce",
    "$let", "$switch", "$regexMatch", "$regexFind", "$regexFindAll", "$substr", "$substrBytes",
    "$substrCP", "$split", "$sqrt", "$pow", "$exp", "$ln", "$log", "$log10", "$strLenBytes",
    "$strLenCP", "$trim", "$ltrim", "$rtrim", "$indexOfArray", "$indexOfBytes", "$indexOfCP",
    "$slice", "$range", "$zip", "$objectToArray", "$arrayToObject", "$setUnion",
    "$setIntersection", "$setDifference", "$setEquals", "$setIsSubset", "$anyElementTrue",
    "$allElementsTrue", "$getField", "$setField", "$rand", "$function", "$accumulator", "$meta",
    "$sortArray", "$replaceOne", "$replaceAll", "$strcasecmp",
];

/// Parses `{$name: arg}`.
pub fn parse(name: &str, arg: &Bson) -> Result<Expression, EngineError> {
    if name == "$literal" {
        return Ok(Expression::Literal(arg.clone()));
    }
    let Some(&(_, op)) = OPERATORS.iter().find(|(n, _)| *n == name) else {
        if UNSUPPORTED.contains(&name) {
            return Err(EngineError::unsupported(&format!("expression {name}")));
        }
        return Err(EngineError::invalid_pipeline_operator(format!(
            "Unrecognized expression '{name}'"
        )));
    };
    let args = match (op, arg) {
        (Operator::Cond, Bson::Document(doc)) if !doc.keys().any(|k| k.starts_with('$')) => {
            cond_object(doc)?
        }
        (_, Bson::Array(items)) => items
            .iter()
            .map(Expression::parse)
            .collect::<Result<_, _>>()?,
        (_, single) => vec![Expression::parse(single)?],
    };
    let expected = match op {
        Operator::Subtract
        | Operator::Divide
        | Operator::Mod
        | Operator::Cmp
        | Operator::Eq
        | Operator::Ne
        | Operator::Gt
        | Operator::Gte
        | Operator::Lt
        | Operator::Lte
        | Operator::ArrayElemAt
        | Operator::In => Some(2),
        Operator::ToLower
        | Operator::ToUpper
        | Operator::Not
        | Operator::Size
        | Operator::IsArray
        | Operator::Type
        | Operator::First
        | Operator::Last
        | Operator::ReverseArray
        | Operator::ToString
        | Operator::ToInt
        | Operator::ToLong
        | Operator::ToDouble
        | Operator::ToBool
        | Operator::Abs
        | Operator::Floor
        | Operator::Ceil
        | Operator::DateToString
        | Operator::DatePart(_) => Some(1),
        Operator::Cond => Some(3),
        _ => None,
    };
    if let Some(n) = expected.filter(|n| *n != args.len()) {
        return Err(EngineError::location(
            16020,
            format!(
                "Expression {name} takes exactly {n} arguments. {} were passed in.",
                args.len()
            ),
        ));
    }
    if op == Operator::IfNull && args.len() < 2 {
        return Err(EngineError::location(
            1_257_300,
            format!("$ifNull needs at least two arguments, had: {}", args.len()),
        ));
    }
    Ok(Expression::Operator(op, args))
}

fn cond_object(doc: &Document) -> Result<Vec<Expression>, EngineError> {
    for key in doc.keys() {
        if !matches!(key.as_str(), "if" | "then" | "else") {
            return Err(EngineError::location(
                17083,
                format!("Unrecognized parameter to $cond: {key}"),
            ));
        }
    }
    ["if", "then", "else"]
        .iter()
        .map(|key| match doc.get(*key) {
            Some(value) => Expression::parse(value),
            None => Err(EngineError::location(
                17080
                    + ["if", "then", "else"]
                        .iter()
                        .position(|k| k == key)
                        .unwrap_or(0) as i32,
                format!("Missing '{key}' parameter to $cond"),
            )),
        })
        .collect()
}

/// Evaluates an operator over its argument expressions.
pub fn evaluate(
    op: Operator,
    args: &[Expression],
    root: &Document,
) -> Result<Option<Bson>, EngineError> {
    match op {
        Operator::Cond => {
            let branch = if truthy(args[0].evaluate(root)?.as_ref()) {
                &args[1]
            } else {
                &args[2]
            };
            return branch.evaluate(root);
        }
        Operator::IfNull => {
            let Some((fallback, candidates)) = args.split_last() else {
                return Ok(Some(Bson::Null));
            };
            for candidate in candidates {
                match candidate.evaluate(root)? {
                    None | Some(Bson::Null | Bson::Undefined) => {}
                    found => return Ok(found),
                }
            }
            return fallback.evaluate(root);
        }
        Operator::And => {
            for arg in args {
                if !truthy(arg.evaluate(root)?.as_ref()) {
                    return Ok(Some(Bson::Boolean(false)));
                }
            }
            return Ok(Some(Bson::Boolean(true)));
        }
        Operator::Or => {
            for arg in args {
                if truthy(arg.evaluate(root)?.as_ref()) {
                    return Ok(Some(Bson::Boolean(true)));
                }
            }
            return Ok(Some(Bson::Boolean(false)));
        }
        _ => {}
    }
    let values = args
        .iter()
        .map(|arg| arg.evaluate(root))
        .collect::<Result<Vec<_>, _>>()?;
    apply(op, values)
}

fn apply(op: Operator, values: Vec<Option<Bson>>) -> Result<Option<Bson>, EngineError> {
    let result = match op {
        Operator::Add => arithmetic::add(&values)?,
        Operator::Subtract => arithmetic::subtract(&values[0], &values[1])?,
        Operator::Multiply => arithmetic::multiply(&values)?,
        Operator::Divide => arithmetic::divide(&values[0], &values[1])?,
        Operator::Mod => arithmetic::modulo(&values[0], &values[1])?,
        Operator::Concat => text::concat(&values)?,
        Operator::ToLower | Operator::ToUpper => {
            text::change_case(op == Operator::ToLower, &values[0])?
        }
        Operator::Cmp
        | Operator::Eq
        | Operator::Ne
        | Operator::Gt
        | Operator::Gte
        | Operator::Lt
        | Operator::Lte => comparison(op, &values[0], &values[1]),
        Operator::Not => Bson::Boolean(!truthy(values[0].as_ref())),
        Operator::Size => arrays::size(&values[0])?,
        Operator::Sum | Operator::Avg | Operator::Min | Operator::Max => {
            let flat: Vec<Bson> = match values.as_slice() {
                [Some(Bson::Array(items))] => items.clone(),
                _ => values.into_iter().flatten().collect(),
            };
            return Ok(Some(crate::engine::aggregate::accumulate(
                op_name(op),
                &flat,
            )));
        }
        Operator::ArrayElemAt => return arrays::array_elem_at(&values[0], &values[1]),
        Operator::In => arrays::contains(&values[0], &values[1])?,
        Operator::ConcatArrays => arrays::concat(values)?,
        Operator::First | Operator::Last => return arrays::end(op == Operator::First, &values[0]),
        Operator::ReverseArray => arrays::reverse(&values[0])?,
        Operator::MergeObjects => merge_objects(&values)?,
        Operator::ToString => text::to_string(&values[0])?,
        Operator::ToInt | Operator::ToLong | Operator::ToDouble | Operator::ToBool => {
            convert::to_type(op_name(op), &values[0])?
        }
        Operator::Abs => arithmetic::abs(&values[0])?,
        Operator::DateToString => return dates::to_string(&values[0]),
        Operator::DatePart(name) => return dates::part(name, &values[0]),
        Operator::Floor | Operator::Ceil => {
            arithmetic::floor_or_ceil(op == Operator::Floor, &values[0])?
        }
        Operator::Round | Operator::Trunc => {
            let place = values.get(1).cloned().flatten();
            arithmetic::round(op == Operator::Round, &values[0], &place)?
        }
        Operator::IsArray => Bson::Boolean(matches!(values[0], Some(Bson::Array(_)))),
        Operator::Type => Bson::String(values[0].as_ref().map_or("missing", type_name).to_owned()),
        // Short-circuiting operators never get here: `evaluate` handles them.
        Operator::Cond | Operator::IfNull | Operator::And | Operator::Or => Bson::Null,
    };
    Ok(Some(result))
}

fn op_name(op: Operator) -> &'static str {
    OPERATORS
        .iter()
        .find(|(_, o)| *o == op)
        .map_or("", |(n, _)| n)
}

/// Aggregation comparison: full BSON order across types, missing below null.
fn comparison(op: Operator, a: &Option<Bson>, b: &Option<Bson>) -> Bson {
    let a = a.clone().unwrap_or(Bson::Undefined);
    let b = b.clone().unwrap_or(Bson::Undefined);
    let ord = order::compare(&a, &b);
    let result = match op {
        Operator::Cmp => {
            return Bson::Int32(match ord {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            });
        }
        Operator::Eq => ord == Ordering::Equal,
        Operator::Ne => ord != Ordering::Equal,
        Operator::Gt => ord == Ordering::Greater,
        Operator::Gte => ord != Ordering::Less,
        Operator::Lt => ord == Ordering::Less,
        _ => ord != Ordering::Greater,
    };
    Bson::Boolean(result)
}

/// `$mergeObjects`: later documents' fields win; null and missing are
/// skipped.
fn merge_objects(values: &[Option<Bson>]) -> Result<Bson, EngineError> {
    let mut out = Document::new();
    for (index, value) in values.iter().enumerate() {
        match value {
            v if is_nullish(v) => {}
            Some(Bson::Document(doc)) => {
                for (key, field) in doc {
                    out.insert(key.clone(), field.clone());
                }
            }
            Some(other) => {
                return Err(EngineError::location(
                    40400,
                    format!(
                        "$mergeObjects requires object inputs, but input {index} is of type {}",
                        type_name(other)
                    ),
                ));
            }
            None => {}
        }
    }
    Ok(Bson::Document(out))
}
