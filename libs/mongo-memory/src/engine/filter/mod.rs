//! Query filters: parse a filter document once, then test documents against
//! it with MongoDB's matching rules (implicit array traversal, type
//! bracketing, `null` matching missing fields). `$expr` is evaluated with
//! the aggregation expressions; `$where`, `$text` and geo operators are
//! refused.
//!
//! * `parse` — filter documents into clauses, with MongoDB's errors.
//! * `predicate` — one operator (`$gt`, `$in`, …) applied to candidate values.
//! * `bson_type` — `$type` names and numbers.
//! * `regex` — `$regex`/`$options` and BSON regex values.

mod bson_type;
mod parse;
mod predicate;
mod regex;

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::expression::{Expression, truthy};
use crate::engine::path;
pub use bson_type::type_name;
use predicate::{Member, Predicate};

/// A parsed query filter. All its clauses must hold (an implicit `$and`).
#[derive(Debug, Clone)]
pub struct Filter {
    clauses: Vec<Clause>,
}

#[derive(Debug, Clone)]
enum Clause {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Nor(Vec<Filter>),
    /// `$expr`: an aggregation expression that must be truthy. An
    /// evaluation error (say, division by zero) counts as no match.
    Expr(Expression),
    /// Every predicate must hold for the values found at `path`.
    Field {
        path: String,
        predicates: Vec<Predicate>,
    },
}

impl Filter {
    /// Parses and validates a filter document (`{}` matches everything).
    pub fn parse(filter: &Document) -> Result<Filter, EngineError> {
        parse::filter(filter)
    }

    /// Whether `doc` matches this filter.
    pub fn matches(&self, doc: &Document) -> bool {
        self.clauses.iter().all(|clause| clause.matches(doc))
    }

    /// The fields an upsert seeds its new document with: plain equality,
    /// `$eq` and one-element `$in` on (dotted) paths, also inside `$and`, as
    /// a nested document (`{"a.b": 1}` yields `{a: {b: 1}}`), in filter
    /// order. A path seeded twice keeps its first value.
    pub fn equality_fields(&self) -> Document {
        let mut seed = Document::new();
        self.collect_equalities(&mut seed);
        seed
    }

    /// What the positional `$` update operator stands for: the index of the
    /// first element of the array at `array_path` that satisfies, alone,
    /// this filter's conditions on that array (failing that, its last such
    /// condition, as MongoDB records the offset of the last one matched).
    pub fn positional_index(&self, doc: &Document, array_path: &str) -> Option<usize> {
        let Some(Bson::Array(items)) = path::get(doc, array_path) else {
            return None;
        };
        let mut clauses = Vec::new();
        self.clauses_on(array_path, &mut clauses);
        let last = clauses.last()?;
        let matches_alone = |index: usize, clauses: &[&Clause]| {
            let mut single = doc.clone();
            if let Some(slot) = path::get_mut(&mut single, array_path) {
                *slot = Bson::Array(vec![items[index].clone()]);
            }
            clauses.iter().all(|clause| clause.matches(&single))
        };
        (0..items.len())
            .find(|i| matches_alone(*i, &clauses))
            .or_else(|| (0..items.len()).find(|i| matches_alone(*i, &[*last])))
    }

    /// Field clauses on `array_path` or below it, here and inside `$and`.
    fn clauses_on<'a>(&'a self, array_path: &str, out: &mut Vec<&'a Clause>) {
        for clause in &self.clauses {
            match clause {
                Clause::And(filters) => filters.iter().for_each(|f| f.clauses_on(array_path, out)),
                Clause::Field { path, .. }
                    if path == array_path
                        || path
                            .strip_prefix(array_path)
                            .is_some_and(|rest| rest.starts_with('.')) =>
                {
                    out.push(clause);
                }
                _ => {}
            }
        }
    }

    fn collect_equalities(&self, seed: &mut Document) {
        for clause in &self.clauses {
            match clause {
                Clause::And(filters) => filters.iter().for_each(|f| f.collect_equalities(seed)),
                Clause::Field { path, predicates } => {
                    for predicate in predicates {
                        let value = match predicate {
                            Predicate::Eq(value) => value,
                            // A one-element `$in` is an equality (MongoDB 3.4+).
                            Predicate::In(members) => match members.as_slice() {
                                [Member::Value(value)] => value,
                                _ => continue,
                            },
                            _ => continue,
                        };
                        if path::get(seed, path).is_none() {
                            path::set_creating(seed, path, value.clone());
                        }
                    }
                }
                Clause::Or(_) | Clause::Nor(_) | Clause::Expr(_) => {}
            }
        }
    }
}

impl Clause {
    fn matches(&self, doc: &Document) -> bool {
        match self {
            Clause::And(filters) => filters.iter().all(|f| f.matches(doc)),
            Clause::Or(filters) => filters.iter().any(|f| f.matches(doc)),
            Clause::Nor(filters) => !filters.iter().any(|f| f.matches(doc)),
            Clause::Expr(expression) => expression
                .evaluate(doc)
                .is_ok_and(|value| truthy(value.as_ref())),
            Clause::Field { path, predicates } => {
                let candidates = path::resolve(doc, path);
                predicates.iter().all(|p| p.matches(&candidates))
            }
        }
    }
}

/// A condition on one array element, as `$pull` takes it: a query when given
/// a plain document (the element must be a matching document), operators when
/// given `{$gte: 6}`, equality (or a regex match) otherwise.
#[derive(Debug, Clone)]
pub struct ElementCondition {
    kind: ElementConditionKind,
}

#[derive(Debug, Clone)]
enum ElementConditionKind {
    Query(Filter),
    Value(Vec<Predicate>),
}

impl ElementCondition {
    /// Parses a `$pull`-style condition.
    pub fn parse(condition: &Bson) -> Result<ElementCondition, EngineError> {
        let kind = match condition {
            Bson::Document(doc) if parse::is_operator_object(doc) => {
                ElementConditionKind::Value(parse::operators(doc)?)
            }
            Bson::Document(doc) => ElementConditionKind::Query(parse::filter(doc)?),
            other => ElementConditionKind::Value(vec![parse::literal(other)?]),
        };
        Ok(ElementCondition { kind })
    }

    /// Whether one array element satisfies the condition.
    pub fn matches(&self, element: &Bson) -> bool {
        match &self.kind {
            ElementConditionKind::Query(filter) => {
                matches!(element, Bson::Document(doc) if filter.matches(doc))
            }
            ElementConditionKind::Value(predicates) => {
                predicates.iter().all(|p| p.matches_single(element))
            }
        }
    }
}

#[cfg(test)]
mod tests;
