//! `GET /api/users/{userId}/metrics`: the seed's `ConversationMetrics` over
//! a user's conversations, summed in MongoDB from the `conversations`
//! documents (latency from the projector's per-call sums, so overflowed
//! messages count).

use axum::Json;
use axum::extract::{Path, State};
use bson::{Document, doc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::fields;
use super::path;
use super::range::Window;
use super::read::read_failed;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// Conversations started at or after this (RFC 3339 time or date); default: all.
    from: Option<String>,
    /// Conversations started before this (a date includes that day); default: all.
    to: Option<String>,
}

/// The seed's `ConversationMetrics`, over all the user's conversations in the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationMetrics {
    /// Milliseconds, summed over agent turns that have a latency.
    pub total_latency: i64,
    /// Milliseconds per such turn; 0 when there is none.
    pub average_latency: f64,
    pub message_count: i64,
    pub credits_used: f64,
    /// `creditsUsed / minutes`; 0 when no time was spent, never NaN or infinite.
    pub cost_per_minute: f64,
}

impl ConversationMetrics {
    fn of(sums: &Document) -> Self {
        let total_latency = fields::int(sums, "latency");
        let turns = fields::int(sums, "turns");
        let credits_used = fields::float(sums, "credits");
        Self {
            total_latency,
            average_latency: if turns > 0 {
                total_latency as f64 / turns as f64
            } else {
                0.0
            },
            message_count: fields::int(sums, "messages"),
            credits_used,
            cost_per_minute: fields::cost_per_minute(credits_used, fields::int(sums, "seconds")),
        }
    }
}

/// A user's conversation metrics (latency, messages, credits, cost per minute). Users see their own; finance and admin anyone's.
#[utoipa::path(get, path = "/api/users/{userId}/metrics", tag = "money",
    params(("userId" = String, Path, description = "24-hex user id"), MetricsQuery),
    responses(
        (status = 200, body = ConversationMetrics),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not this caller's user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn user_metrics(
    State(state): State<AppState>,
    principal: Principal,
    Path(user): Path<String>,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<ConversationMetrics>, ApiError> {
    let user = principal.money_of(path::user(&user)?, "user")?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let mut filter = doc! { "userId": bson::oid::ObjectId::from_bytes(user.bytes()) };
    window.restrict(&mut filter, "startedAt");
    let pipeline = [
        doc! { "$match": filter },
        doc! { "$group": {
            "_id": null,
            "latency": { "$sum": "$projection.latencySumMs" },
            "turns": { "$sum": "$projection.latencyTurns" },
            "messages": { "$sum": "$metrics.messageCount" },
            "credits": { "$sum": "$cost" },
            "seconds": { "$sum": "$duration" },
        } },
    ];
    let sums: Vec<Document> = state
        .reads
        .conversations()
        .aggregate(pipeline)
        .await
        .map_err(read_failed)?
        .try_collect()
        .await
        .map_err(read_failed)?;
    Ok(Json(
        sums.first()
            .map(ConversationMetrics::of)
            .unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_the_sums_average_over_turns_and_never_divide_by_zero() {
        let none = ConversationMetrics::of(&doc! {});
        assert_eq!(none, ConversationMetrics::default());
        let some = ConversationMetrics::of(&doc! {
            "latency": 900_i64, "turns": 3_i64, "messages": 7_i32, "credits": 120.0, "seconds": 30_i32,
        });
        assert_eq!(some.total_latency, 900);
        assert_eq!(some.average_latency, 300.0);
        assert_eq!(some.message_count, 7);
        assert_eq!(some.cost_per_minute, 240.0);
    }
}
