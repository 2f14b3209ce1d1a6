//! `CommandError`: a MongoDB error reply (`ok: 0`, `code`, `codeName`, `errmsg`).

use bson::{Document, doc};

/// Error codes the server answers with, named as MongoDB names them.
pub mod code {
    pub const BAD_VALUE: i32 = 2;
    pub const FAILED_TO_PARSE: i32 = 9;
    pub const TYPE_MISMATCH: i32 = 14;
    pub const ILLEGAL_OPERATION: i32 = 20;
    pub const NAMESPACE_NOT_FOUND: i32 = 26;
    pub const INDEX_NOT_FOUND: i32 = 27;
    pub const CURSOR_NOT_FOUND: i32 = 43;
    pub const NAMESPACE_EXISTS: i32 = 48;
    pub const COMMAND_NOT_FOUND: i32 = 59;
    pub const IMMUTABLE_FIELD: i32 = 66;
    pub const INVALID_OPTIONS: i32 = 72;
    pub const INVALID_NAMESPACE: i32 = 73;
    pub const INDEX_OPTIONS_CONFLICT: i32 = 85;
    pub const INDEX_KEY_SPECS_CONFLICT: i32 = 86;
    pub const NOT_IMPLEMENTED: i32 = 238;
    pub const UNSUPPORTED_OP_QUERY_COMMAND: i32 = 352;
    pub const UNAUTHORIZED: i32 = 13;
    pub const INVALID_LENGTH: i32 = 16;
    pub const INVALID_INDEX_SPECIFICATION_OPTION: i32 = 197;
    pub const BSON_OBJECT_TOO_LARGE: i32 = 10334;
    pub const DUPLICATE_KEY: i32 = 11000;
    pub const UPDATED_DOCUMENT_TOO_LARGE: i32 = 17419;
    pub const UNKNOWN_FIELD: i32 = 40415;
}

/// What a command answers when it fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code_name} ({code}): {message}")]
pub struct CommandError {
    pub code: i32,
    pub code_name: String,
    pub message: String,
    /// Extra fields MongoDB puts beside the error (e.g. `keyValue` on E11000).
    pub details: Option<Box<Document>>,
}

impl CommandError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            code_name: code_name(code),
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_value(message: impl Into<String>) -> Self {
        Self::new(code::BAD_VALUE, message)
    }

    pub fn type_mismatch(message: impl Into<String>) -> Self {
        Self::new(code::TYPE_MISMATCH, message)
    }

    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(code::NOT_IMPLEMENTED, message)
    }

    pub fn with_details(mut self, details: Document) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// The full `{ok: 0, ...}` reply.
    pub fn to_reply(&self) -> Document {
        let mut reply = doc! {
            "ok": 0.0,
            "errmsg": &self.message,
            "code": self.code,
            "codeName": &self.code_name,
        };
        if let Some(details) = &self.details {
            reply.extend(details.as_ref().clone());
        }
        reply
    }

    /// The `{index, code, errmsg}` entry of a `writeErrors` array.
    pub fn to_write_error(&self, index: usize) -> Document {
        let mut entry = doc! {
            "index": i32::try_from(index).unwrap_or(i32::MAX),
            "code": self.code,
            "codeName": &self.code_name,
            "errmsg": &self.message,
        };
        if let Some(details) = &self.details {
            entry.extend(details.as_ref().clone());
        }
        entry
    }
}

impl From<crate::engine::EngineError> for CommandError {
    fn from(error: crate::engine::EngineError) -> Self {
        Self {
            code: error.code,
            code_name: error.code_name.to_string(),
            message: error.message,
            details: None,
        }
    }
}

fn code_name(code: i32) -> String {
    let name = match code {
        code::BAD_VALUE => "BadValue",
        code::FAILED_TO_PARSE => "FailedToParse",
        code::TYPE_MISMATCH => "TypeMismatch",
        code::ILLEGAL_OPERATION => "IllegalOperation",
        code::NAMESPACE_NOT_FOUND => "NamespaceNotFound",
        code::INDEX_NOT_FOUND => "IndexNotFound",
        code::CURSOR_NOT_FOUND => "CursorNotFound",
        code::NAMESPACE_EXISTS => "NamespaceExists",
        code::COMMAND_NOT_FOUND => "CommandNotFound",
        code::IMMUTABLE_FIELD => "ImmutableField",
        code::INVALID_OPTIONS => "InvalidOptions",
        code::INVALID_NAMESPACE => "InvalidNamespace",
        code::INDEX_OPTIONS_CONFLICT => "IndexOptionsConflict",
        code::INDEX_KEY_SPECS_CONFLICT => "IndexKeySpecsConflict",
        code::NOT_IMPLEMENTED => "NotImplemented",
        code::UNSUPPORTED_OP_QUERY_COMMAND => "UnsupportedOpQueryCommand",
        code::UNAUTHORIZED => "Unauthorized",
        code::INVALID_LENGTH => "InvalidLength",
        code::INVALID_INDEX_SPECIFICATION_OPTION => "InvalidIndexSpecificationOption",
        code::BSON_OBJECT_TOO_LARGE => "BSONObjectTooLarge",
        code::DUPLICATE_KEY => "DuplicateKey",
        other => return format!("Location{other}"),
    };
    name.to_owned()
}
