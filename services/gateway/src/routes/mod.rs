//! The gateway's HTTP surface: each resource's `router()`, merged here.

pub mod convai;
mod health;

use axum::Router;

pub fn router(convai: convai::ConvaiState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(convai::router(convai))
}
