//! `AppState`: what every route shares.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::live::Live;
use crate::reads::Reads;

#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<Authenticator>,
    pub live: Live,
    pub reads: Reads,
    /// For service commands (`bus::request`) and live subscriptions.
    pub nats: async_nats::Client,
}
