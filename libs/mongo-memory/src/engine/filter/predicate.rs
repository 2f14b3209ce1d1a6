//! One query operator applied to the values a path reached. Most operators
//! also look inside a terminal array (`{a: 5}` matches `a: [1, 5]`); `$size`
//! and `$elemMatch` look at the array itself.

use std::cmp::Ordering;

use bson::Bson;

use super::Filter;
use super::bson_type::TypeSet;
use super::regex::Pattern;
use crate::engine::order::{self, Number};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Comparison {
    fn accepts(self, ord: Ordering) -> bool {
        match self {
            Comparison::Gt => ord == Ordering::Greater,
            Comparison::Gte => ord != Ordering::Less,
            Comparison::Lt => ord == Ordering::Less,
            Comparison::Lte => ord != Ordering::Greater,
        }
    }
}

/// An `$in`/`$all` member: a value compared for equality, or a regex.
#[derive(Debug, Clone)]
pub enum Member {
    Value(Bson),
    Pattern(Pattern),
}

impl Member {
    fn matches_one(&self, value: Option<&Bson>) -> bool {
        match self {
            Member::Value(expected) => equals(expected, value),
            Member::Pattern(pattern) => value.is_some_and(|v| pattern.matches(v)),
        }
    }
}

/// One parsed operator on a field.
#[derive(Debug, Clone)]
pub enum Predicate {
    Eq(Bson),
    Ne(Bson),
    Compare(Comparison, Bson),
    In(Vec<Member>),
    Nin(Vec<Member>),
    Exists(bool),
    Type(TypeSet),
    Regex(Pattern),
    Not(Vec<Predicate>),
    ElemMatchQuery(Filter),
    ElemMatchValue(Vec<Predicate>),
    Size(usize),
    All(Vec<Member>),
    AllElemMatch(Vec<Predicate>),
    Mod { divisor: i64, remainder: i64 },
}

impl Predicate {
    /// Whether the predicate holds for the values found at a path.
    pub fn matches(&self, candidates: &[Option<&Bson>]) -> bool {
        match self {
            Predicate::Ne(value) => !any_expanded(candidates, |v| equals(value, v)),
            Predicate::Nin(members) => {
                !any_expanded(candidates, |v| members.iter().any(|m| m.matches_one(v)))
            }
            Predicate::Exists(wanted) => candidates.iter().any(Option::is_some) == *wanted,
            Predicate::Not(inner) => !inner.iter().all(|p| p.matches(candidates)),
            Predicate::ElemMatchQuery(_) | Predicate::ElemMatchValue(_) | Predicate::Size(_) => {
                candidates.iter().flatten().any(|v| self.matches_array(v))
            }
            Predicate::All(members) => {
                !members.is_empty()
                    && members
                        .iter()
                        .all(|m| any_expanded(candidates, |v| m.matches_one(v)))
            }
            Predicate::AllElemMatch(inner) => {
                !inner.is_empty() && inner.iter().all(|p| p.matches(candidates))
            }
            _ => any_expanded(candidates, |v| self.matches_one(v)),
        }
    }

    /// Whether the predicate holds for one value, with no array expansion
    /// (`$elemMatch` value form and `$pull` conditions).
    pub fn matches_single(&self, value: &Bson) -> bool {
        match self {
            Predicate::Ne(expected) => !equals(expected, Some(value)),
            Predicate::Nin(members) => !members.iter().any(|m| m.matches_one(Some(value))),
            Predicate::Exists(wanted) => *wanted,
            Predicate::Not(inner) => !inner.iter().all(|p| p.matches_single(value)),
            Predicate::ElemMatchQuery(_) | Predicate::ElemMatchValue(_) | Predicate::Size(_) => {
                self.matches_array(value)
            }
            Predicate::All(members) => {
                !members.is_empty() && members.iter().all(|m| m.matches_one(Some(value)))
            }
            Predicate::AllElemMatch(inner) => inner.iter().all(|p| p.matches_single(value)),
            _ => self.matches_one(Some(value)),
        }
    }

    fn matches_array(&self, value: &Bson) -> bool {
        let Bson::Array(items) = value else {
            return false;
        };
        match self {
            Predicate::Size(n) => items.len() == *n,
            Predicate::ElemMatchQuery(filter) => items
                .iter()
                .any(|item| matches!(item, Bson::Document(doc) if filter.matches(doc))),
            Predicate::ElemMatchValue(inner) => items
                .iter()
                .any(|item| inner.iter().all(|p| p.matches_single(item))),
            _ => false,
        }
    }

    /// The leaf test of the element-wise operators on one value (`None` is
    /// a missing field).
    fn matches_one(&self, value: Option<&Bson>) -> bool {
        match self {
            Predicate::Eq(expected) => equals(expected, value),
            Predicate::Compare(op, bound) => compare_bounded(*op, bound, value),
            Predicate::In(members) => members.iter().any(|m| m.matches_one(value)),
            Predicate::Type(types) => value.is_some_and(|v| types.contains(v)),
            Predicate::Regex(pattern) => value.is_some_and(|v| pattern.matches(v)),
            Predicate::Mod { divisor, remainder } => value.and_then(Number::of).is_some_and(|n| {
                let x = n.as_f64();
                let whole = n.as_i64().unwrap_or(x.trunc() as i64);
                x.is_finite() && whole.wrapping_rem(*divisor) == *remainder
            }),
            _ => false,
        }
    }
}

/// Calls `test` on each candidate and, for arrays, on each element too.
fn any_expanded(candidates: &[Option<&Bson>], test: impl Fn(Option<&Bson>) -> bool) -> bool {
    candidates.iter().any(|candidate| match candidate {
        Some(Bson::Array(items)) => test(*candidate) || items.iter().any(|item| test(Some(item))),
        other => test(*other),
    })
}

/// Query equality: `null` also matches a missing field.
fn equals(expected: &Bson, value: Option<&Bson>) -> bool {
    match value {
        None => matches!(expected, Bson::Null),
        Some(actual) => {
            order::type_rank(actual) == order::type_rank(expected) && order::equal(actual, expected)
        }
    }
}

/// `$gt`-style comparison, only within the operand's type bracket (except
/// MinKey/MaxKey bounds, which compare against everything).
fn compare_bounded(op: Comparison, bound: &Bson, value: Option<&Bson>) -> bool {
    let Some(actual) = value else {
        return matches!(bound, Bson::Null) && matches!(op, Comparison::Gte | Comparison::Lte);
    };
    let unbounded = matches!(bound, Bson::MinKey | Bson::MaxKey);
    if !unbounded && order::type_rank(actual) != order::type_rank(bound) {
        return false;
    }
    op.accepts(order::compare(actual, bound))
}
