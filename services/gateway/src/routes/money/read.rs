//! A failed read of the read models: MongoDB out of reach is a 503 (try
//! again), anything else an internal error.

use mongodb::error::ErrorKind;

use crate::error::ApiError;

pub fn read_failed(error: mongodb::error::Error) -> ApiError {
    match *error.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. } => {
            tracing::warn!(%error, "the read models are out of reach");
            ApiError::Unavailable("the read models")
        }
        _ => ApiError::internal(error),
    }
}
