//! `GET /readyz` (NATS and MongoDB reachable, 503 when not) and
//! `GET /metrics` (Prometheus text).

use std::collections::HashMap;
use std::time::Duration;

use async_nats::connection::State as NatsState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bson::doc;
use eventstore::StreamName;
use futures::TryStreamExt;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::metrics::{CONSUMER_PENDING, PROJECTION_LAG, handle};
use crate::state::AppState;

/// How long a dependency may take to answer a readiness or lag probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The projector's checkpoints (services/projector `checkpoint`), read only.
const CHECKPOINTS: &str = "projector_checkpoints";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ready))
        .routes(routes!(prometheus))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Readiness {
    /// `ready` or `unavailable`.
    status: &'static str,
    /// `ok`, or why NATS is not usable.
    nats: String,
    /// `ok`, or why MongoDB is not usable.
    mongodb: String,
}

/// Whether this copy can serve: NATS connected and MongoDB answering a ping.
#[utoipa::path(get, path = "/readyz", tag = "meta", security(()),
    responses(
        (status = 200, body = Readiness, description = "NATS and MongoDB are reachable"),
        (status = 503, body = Readiness, description = "One of them is not"),
    ))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let nats = match state.nats.connection_state() {
        NatsState::Connected => "ok".to_owned(),
        other => format!("not connected ({other})"),
    };
    let ping = state.reads.database().run_command(doc! { "ping": 1 });
    let mongodb = match tokio::time::timeout(PROBE_TIMEOUT, ping).await {
        Ok(Ok(_)) => "ok".to_owned(),
        Ok(Err(error)) => format!("not answering: {error}"),
        Err(_) => format!("no answer within {PROBE_TIMEOUT:?}"),
    };
    let ok = nats == "ok" && mongodb == "ok";
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let readiness = Readiness {
        status: if ok { "ready" } else { "unavailable" },
        nats,
        mongodb,
    };
    (status, Json(readiness))
}

/// Prometheus metrics of this copy, with the log's consumer lag read now.
#[utoipa::path(get, path = "/metrics", tag = "meta", security(()),
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
async fn prometheus(State(state): State<AppState>) -> Result<Response, ApiError> {
    let handle = handle().ok_or(ApiError::Unavailable("the metrics recorder"))?;
    // A lag that cannot be read leaves its gauges at their last value.
    if tokio::time::timeout(PROBE_TIMEOUT, record_lag(&state))
        .await
        .is_err()
    {
        tracing::warn!("consumer lag not read within the probe timeout");
    }
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response())
}

/// How far each durable consumer and each projection is behind its stream.
async fn record_lag(state: &AppState) {
    let jetstream = async_nats::jetstream::new(state.nats.clone());
    let mut last = HashMap::new();
    for name in StreamName::ALL {
        let Ok(mut stream) = jetstream.get_stream(name.as_str()).await else {
            continue;
        };
        let Ok(info) = stream.info().await else {
            continue;
        };
        last.insert(name.as_str(), info.state.last_sequence);
        let Ok(consumers) = stream.consumers().try_collect::<Vec<_>>().await else {
            continue;
        };
        for consumer in consumers {
            if let Some(durable) = consumer.config.durable_name {
                metrics::gauge!(CONSUMER_PENDING, "stream" => name.as_str(), "consumer" => durable)
                    .set(consumer.num_pending as f64);
            }
        }
    }
    let checkpoints = state
        .reads
        .database()
        .collection::<bson::Document>(CHECKPOINTS);
    let Ok(cursor) = checkpoints.find(doc! {}).await else {
        return;
    };
    let Ok(documents) = cursor.try_collect::<Vec<_>>().await else {
        return;
    };
    for checkpoint in documents {
        let (Ok(key), Ok(applied)) = (checkpoint.get_str("_id"), checkpoint.get_i64("sequence"))
        else {
            continue;
        };
        let Some((projection, stream)) = key.split_once(':') else {
            continue;
        };
        let Some(&last) = last.get(stream) else {
            continue;
        };
        let behind = last.saturating_sub(u64::try_from(applied).unwrap_or(0));
        metrics::gauge!(PROJECTION_LAG, "projection" => projection.to_owned(), "stream" => stream.to_owned())
            .set(behind as f64);
    }
}
