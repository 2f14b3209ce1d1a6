//! Aggregation pipelines over an in-memory set of documents: the stages that
//! need no other collection (`$match $group $count $sort $limit $skip
//! $project $addFields/$set $unset $unwind $facet $sortByCount
//! $replaceRoot/$replaceWith`). The whole pipeline is parsed before any
//! document flows, so a bad stage fails the command up front.
//!
//! * `stage` — parsing stage documents.
//! * `group` — `$group` and its accumulators.
//! * `unwind` — `$unwind`.

mod group;
mod stage;
mod unwind;

use bson::{Bson, Document};

use crate::engine::error::EngineError;
pub use group::accumulate;
use stage::Stage;

/// Runs a pipeline over documents and returns the results.
pub fn run(docs: Vec<Document>, pipeline: &[Document]) -> Result<Vec<Document>, EngineError> {
    let stages = stage::parse_pipeline(pipeline, false)?;
    execute(docs, &stages)
}

fn execute(mut docs: Vec<Document>, stages: &[Stage]) -> Result<Vec<Document>, EngineError> {
    for stage in stages {
        docs = match stage {
            Stage::Match(filter) => docs.into_iter().filter(|d| filter.matches(d)).collect(),
            Stage::Group(group) => group.run(docs)?,
            Stage::Count(field) => {
                if docs.is_empty() {
                    Vec::new()
                } else {
                    let n = i32::try_from(docs.len())
                        .map_or(Bson::Int64(docs.len() as i64), Bson::Int32);
                    let mut out = Document::new();
                    out.insert(field.clone(), n);
                    vec![out]
                }
            }
            Stage::Sort(spec) => {
                spec.sort(&mut docs);
                docs
            }
            Stage::Limit(n) => {
                docs.truncate(usize::try_from(*n).unwrap_or(usize::MAX));
                docs
            }
            Stage::Skip(n) => docs
                .into_iter()
                .skip(usize::try_from(*n).unwrap_or(usize::MAX))
                .collect(),
            Stage::Project(projection) => docs
                .iter()
                .map(|d| projection.apply(d))
                .collect::<Result<_, _>>()?,
            Stage::AddFields(fields) => docs
                .into_iter()
                .map(|d| stage::add_fields(fields, d))
                .collect::<Result<_, _>>()?,
            Stage::Unwind(spec) => spec.run(docs),
            Stage::Facet(facets) => {
                let mut out = Document::new();
                for (name, pipeline) in facets {
                    let results = execute(docs.clone(), pipeline)?;
                    out.insert(
                        name.clone(),
                        results.into_iter().map(Bson::Document).collect::<Vec<_>>(),
                    );
                }
                vec![out]
            }
            Stage::Sequence(stages) => execute(docs, stages)?,
            Stage::ReplaceRoot(expression) => docs
                .iter()
                .map(|d| match expression.evaluate(d)? {
                    Some(Bson::Document(root)) => Ok(root),
                    other => Err(EngineError::location(
                        40228,
                        format!(
                            "'newRoot' expression must evaluate to an object, but resulting value \
                             was: {}. Type of resulting value: '{}'.",
                            other
                                .as_ref()
                                .map_or("MISSING".to_owned(), ToString::to_string),
                            other
                                .as_ref()
                                .map_or("missing", crate::engine::filter::type_name),
                        ),
                    )),
                })
                .collect::<Result<_, _>>()?,
        };
    }
    Ok(docs)
}

#[cfg(test)]
mod tests;
