//! The engine's one error type: a MongoDB server error with its real numeric
//! `code` and `codeName`, so the server can answer with exactly what MongoDB
//! would have said.

use std::borrow::Cow;

use thiserror::Error;

/// A refusal from the engine, carrying MongoDB's own code and code name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{code_name} ({code}): {message}")]
pub struct EngineError {
    /// MongoDB's numeric error code (`code` in the reply).
    pub code: i32,
    /// MongoDB's symbolic error name (`codeName` in the reply).
    pub code_name: Cow<'static, str>,
    /// Human-readable message (`errmsg` in the reply).
    pub message: String,
}

impl EngineError {
    /// An error with one of MongoDB's named codes.
    pub fn new(code: i32, code_name: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            code_name: Cow::Borrowed(code_name),
            message: message.into(),
        }
    }

    /// An error MongoDB raises at a numbered source location; its code
    /// name is `Location<code>` (`Location40324` and friends).
    pub fn location(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            code_name: Cow::Owned(format!("Location{code}")),
            message: message.into(),
        }
    }

    /// `BadValue` (2).
    pub fn bad_value(message: impl Into<String>) -> Self {
        Self::new(2, "BadValue", message)
    }

    /// `FailedToParse` (9).
    pub fn failed_to_parse(message: impl Into<String>) -> Self {
        Self::new(9, "FailedToParse", message)
    }

    /// `TypeMismatch` (14).
    pub fn type_mismatch(message: impl Into<String>) -> Self {
        Self::new(14, "TypeMismatch", message)
    }

    /// `PathNotViable` (28).
    pub fn path_not_viable(message: impl Into<String>) -> Self {
        Self::new(28, "PathNotViable", message)
    }

    /// `ConflictingUpdateOperators` (40).
    pub fn conflicting_update_operators(message: impl Into<String>) -> Self {
        Self::new(40, "ConflictingUpdateOperators", message)
    }

    /// `DollarPrefixedFieldName` (52).
    pub fn dollar_prefixed_field_name(message: impl Into<String>) -> Self {
        Self::new(52, "DollarPrefixedFieldName", message)
    }

    /// `EmptyFieldName` (56).
    pub fn empty_field_name(message: impl Into<String>) -> Self {
        Self::new(56, "EmptyFieldName", message)
    }

    /// `ImmutableField` (66).
    pub fn immutable_field(message: impl Into<String>) -> Self {
        Self::new(66, "ImmutableField", message)
    }

    /// `InvalidOptions` (72).
    pub fn invalid_options(message: impl Into<String>) -> Self {
        Self::new(72, "InvalidOptions", message)
    }

    /// `InvalidPipelineOperator` (168).
    pub fn invalid_pipeline_operator(message: impl Into<String>) -> Self {
        Self::new(168, "InvalidPipelineOperator", message)
    }

    /// `NotImplemented` (238): a MongoDB feature this server does not offer.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(238, "NotImplemented", message)
    }

    /// `NotImplemented` naming the unsupported piece in a uniform way.
    pub fn unsupported(what: &str) -> Self {
        Self::not_implemented(format!("{what} is not supported by mongo-memory"))
    }
}
