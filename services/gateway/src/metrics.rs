//! What the gateway measures, exported for Prometheus at `/metrics`:
//! requests by route and status, live conversations open, relay time per
//! frame, and, read at scrape time, how far each consumer of the log is
//! behind (the ledger's durable consumer, the projector's checkpoints).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "parlor_http_requests_total";
pub const HTTP_SECONDS: &str = "parlor_http_request_duration_seconds";
pub const LIVE_CONVERSATIONS: &str = "parlor_live_conversations";
pub const RELAY_SECONDS: &str = "parlor_relay_frame_seconds";
pub const CONSUMER_PENDING: &str = "parlor_consumer_pending_events";
pub const PROJECTION_LAG: &str = "parlor_projection_lag_events";

/// The process-wide recorder (one per process, however many gateways a test
/// starts in it); `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
                    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics are not recorded");
                    None
                }
            }
        })
        .as_ref()
}

/// Counts and times every request by its route template (never the raw
/// path, whose ids would make a series per conversation).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(HTTP_SECONDS, "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed());
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

/// One open live conversation, counted while it is held.
pub struct LiveConversation(());

impl LiveConversation {
    pub fn open() -> Self {
        metrics::gauge!(LIVE_CONVERSATIONS).increment(1.0);
        Self(())
    }
}

impl Drop for LiveConversation {
    fn drop(&mut self) {
        metrics::gauge!(LIVE_CONVERSATIONS).decrement(1.0);
    }
}

/// The time one frame spent in the gateway, from the side it came from to
/// the other (`to_session` or `to_client`).
pub fn relayed(direction: &'static str, since: Instant) {
    metrics::histogram!(RELAY_SECONDS, "direction" => direction).record(since.elapsed());
}
