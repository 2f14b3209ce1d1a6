//! `AppState`: what every route shares.

use std::sync::Arc;

use elevenlabs::WebhookSecret;

use crate::auth::Authenticator;
use crate::chat::ChatConfig;
use crate::live::Live;
use crate::reads::Reads;
use crate::routes::money::idempotency::IdempotencyKeys;

#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<Authenticator>,
    pub live: Live,
    pub reads: Reads,
    /// For service commands (`bus::request`) and live subscriptions.
    pub nats: async_nats::Client,
    /// The text chat's idle and reply timeouts (`POST /api/agent`).
    pub chat: ChatConfig,
    /// The admin writes' `Idempotency-Key`s and their first bodies.
    pub idempotency: IdempotencyKeys,
    /// Checks `POST /webhooks/elevenlabs`; `None`: webhooks are refused (503).
    pub webhook_secret: Option<Arc<WebhookSecret>>,
}
