//! The problems both admin writes (grants, corrections) answer, documented
//! once for their OpenAPI operations.

use std::collections::BTreeMap;

use utoipa::openapi::{RefOr, Response};

use crate::error::problem_responses;

pub struct AdminWriteProblems;

impl utoipa::IntoResponses for AdminWriteProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(&[
            (
                400,
                "The Idempotency-Key is missing or unusable, or the body is not JSON",
            ),
            (401, "No credential, or a bad one"),
            (403, "Not admin"),
            (413, "The body is too large"),
            (415, "The body is not application/json"),
            (
                422,
                "The body breaks a rule, or its Idempotency-Key came with another body",
            ),
            (503, "The ledger is not answering"),
        ])
    }
}
