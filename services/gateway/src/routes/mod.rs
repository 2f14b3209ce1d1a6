//! The gateway's HTTP surface: each resource's `router()`, merged here.

mod health;

use axum::Router;

pub fn router() -> Router {
    Router::new().merge(health::router())
}
