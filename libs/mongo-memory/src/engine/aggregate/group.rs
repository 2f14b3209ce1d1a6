//! `$group`: grouping by an `_id` expression and the accumulators
//! (`$sum $avg $min $max $first $last $push $addToSet $count`). The same
//! arithmetic serves the `$sum`/`$avg`/`$min`/`$max` expressions on arrays.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use bson::{Bson, Document};

use crate::engine::arith;
use crate::engine::error::EngineError;
use crate::engine::expression::Expression;
use crate::engine::order::{self, Number};

/// A parsed `$group` stage.
#[derive(Debug, Clone)]
pub struct Group {
    id: Expression,
    fields: Vec<(String, Accumulator, Expression)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accumulator {
    Sum,
    Avg,
    Min,
    Max,
    First,
    Last,
    Push,
    AddToSet,
}

const UNSUPPORTED: &[&str] = &[
    "$stdDevPop",
    "$stdDevSamp",
    "$mergeObjects",
    "$top",
    "$topN",
    "$bottom",
    "$bottomN",
    "$firstN",
    "$lastN",
    "$maxN",
    "$minN",
    "$accumulator",
    "$median",
    "$percentile",
];

impl Group {
    /// Parses `{_id: <expr>, field: {$acc: <expr>}, …}`.
    pub fn parse(spec: &Bson) -> Result<Group, EngineError> {
        let Bson::Document(spec) = spec else {
            return Err(EngineError::location(
                15947,
                "a group's fields must be specified in an object",
            ));
        };
        let id = spec.get("_id").ok_or_else(|| {
            EngineError::location(15955, "a group specification must include an _id")
        })?;
        let id = Expression::parse(id)?;
        let mut fields = Vec::new();
        for (name, value) in spec.iter().filter(|(k, _)| *k != "_id") {
            if name.contains('.') {
                return Err(EngineError::location(
                    40235,
                    format!("The field name '{name}' cannot contain '.'"),
                ));
            }
            let Bson::Document(acc) = value else {
                return Err(EngineError::location(
                    40234,
                    format!("The field '{name}' must be an accumulator object"),
                ));
            };
            if acc.len() != 1 {
                return Err(EngineError::location(
                    40238,
                    format!("The field '{name}' must specify one accumulator"),
                ));
            }
            let Some((op, arg)) = acc.iter().next() else {
                continue;
            };
            let (accumulator, expression) = accumulator(op, arg)?;
            fields.push((name.clone(), accumulator, expression));
        }
        Ok(Group { id, fields })
    }

    /// Groups documents; groups come out in order of first appearance.
    pub fn run(&self, docs: Vec<Document>) -> Result<Vec<Document>, EngineError> {
        let mut index: BTreeMap<Key, usize> = BTreeMap::new();
        let mut groups: Vec<(Bson, Vec<State>)> = Vec::new();
        for doc in &docs {
            let key = self.id.evaluate_or_null(doc)?;
            let slot = match index.get(&Key(key.clone())) {
                Some(slot) => *slot,
                None => {
                    index.insert(Key(key.clone()), groups.len());
                    groups.push((key, self.fields.iter().map(|_| State::default()).collect()));
                    groups.len() - 1
                }
            };
            for ((_, accumulator, expression), state) in self.fields.iter().zip(&mut groups[slot].1)
            {
                state.add(*accumulator, expression.evaluate(doc)?);
            }
        }
        Ok(groups
            .into_iter()
            .map(|(key, states)| {
                let mut out = Document::new();
                out.insert("_id", key);
                for ((name, accumulator, _), state) in self.fields.iter().zip(states) {
                    out.insert(name.clone(), state.finish(*accumulator));
                }
                out
            })
            .collect())
    }
}

fn accumulator(op: &str, arg: &Bson) -> Result<(Accumulator, Expression), EngineError> {
    let accumulator = match op {
        "$sum" => Accumulator::Sum,
        "$avg" => Accumulator::Avg,
        "$min" => Accumulator::Min,
        "$max" => Accumulator::Max,
        "$first" => Accumulator::First,
        "$last" => Accumulator::Last,
        "$push" => Accumulator::Push,
        "$addToSet" => Accumulator::AddToSet,
        "$count" => {
            if !matches!(arg, Bson::Document(d) if d.is_empty()) {
                return Err(EngineError::location(
                    5_432_300,
                    "$count takes no arguments, i.e. $count:{}",
                ));
            }
            return Ok((Accumulator::Sum, Expression::Literal(Bson::Int32(1))));
        }
        other if UNSUPPORTED.contains(&other) => {
            return Err(EngineError::unsupported(&format!("accumulator {other}")));
        }
        other => {
            return Err(EngineError::location(
                15952,
                format!("unknown group operator '{other}'"),
            ));
        }
    };
    if matches!(arg, Bson::Array(_)) {
        return Err(EngineError::location(
            40237,
            format!("The {op} accumulator is a unary operator"),
        ));
    }
    Ok((accumulator, Expression::parse(arg)?))
}

/// Orders group keys with MongoDB's comparison (so 1 and 1.0 share a group).
#[derive(Debug)]
struct Key(Bson);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        order::compare(&self.0, &other.0)
    }
}

#[derive(Debug, Default)]
struct State {
    values: Vec<Bson>,
    first: Option<Bson>,
    last: Option<Bson>,
}

impl State {
    fn add(&mut self, accumulator: Accumulator, value: Option<Bson>) {
        match accumulator {
            Accumulator::First | Accumulator::Last => {
                let value = value.unwrap_or(Bson::Null);
                if self.first.is_none() {
                    self.first = Some(value.clone());
                }
                self.last = Some(value);
            }
            Accumulator::AddToSet => {
                if let Some(value) = value
                    && !self.values.iter().any(|v| order::equal(v, &value))
                {
                    self.values.push(value);
                }
            }
            _ => self.values.extend(value),
        }
    }

    fn finish(self, accumulator: Accumulator) -> Bson {
        match accumulator {
            Accumulator::Sum => accumulate("$sum", &self.values),
            Accumulator::Avg => accumulate("$avg", &self.values),
            Accumulator::Min => accumulate("$min", &self.values),
            Accumulator::Max => accumulate("$max", &self.values),
            Accumulator::First => self.first.unwrap_or(Bson::Null),
            Accumulator::Last => self.last.unwrap_or(Bson::Null),
            Accumulator::Push | Accumulator::AddToSet => Bson::Array(self.values),
        }
    }
}

/// `$sum`, `$avg`, `$min` or `$max` over values: sums ignore non-numbers
/// (int32 widening to int64, then double), `$avg` is a double or null,
/// `$min`/`$max` ignore null and missing.
pub fn accumulate(name: &str, values: &[Bson]) -> Bson {
    match name {
        "$sum" | "$avg" => {
            let numbers: Vec<Number> = values.iter().filter_map(Number::of).collect();
            let mut total = Number::Int(0);
            for n in &numbers {
                total =
                    arith::add(total, *n).unwrap_or(Number::Double(total.as_f64() + n.as_f64()));
            }
            if name == "$sum" {
                total.to_bson()
            } else if numbers.is_empty() {
                Bson::Null
            } else {
                Bson::Double(total.as_f64() / numbers.len() as f64)
            }
        }
        _ => {
            let present = values
                .iter()
                .filter(|v| !matches!(v, Bson::Null | Bson::Undefined));
            let best = if name == "$min" {
                present.min_by(|a, b| order::compare(a, b))
            } else {
                present.max_by(|a, b| order::compare(a, b))
            };
            best.cloned().unwrap_or(Bson::Null)
        }
    }
}
