//! The gateway owns users at the edge: authentication, the HTTP API, the
//! client WebSockets that speak the ElevenLabs conversation protocol, webhook
//! intake, and reads of the read models.
//!
//! It never writes read models and never holds conversation state: it asks
//! the session and ledger services over NATS and relays.
//!
//! # Layout
//!
//! * [`config`] — `Config` from the environment.
//! * [`app`] — `Application::build(config)` → `addr()` → `run_until_stopped`.
//! * [`auth`] — bearer tokens (Parlor HS256, RS256/ES256 of an identity
//!   provider, NextAuth sessions), conversation signatures, where requests
//!   carry them, the per-caller rate limit, and `Principal`: the caller and
//!   what its role sees.
//! * [`chat`] — the text chat of `POST /api/agent`: a text-only live
//!   conversation held open by the copy that opened it until it is idle.
//! * [`live`] — a live conversation: `cmd.session.start`, then the relay
//!   between the client WebSocket and the live subjects.
//! * [`routes`] — one module per resource, each with its own `router()`;
//!   merged with the OpenAPI document generated from the same handlers.
//! * [`error`] — `ApiError`, answered as `application/problem+json`.
//! * [`extract`] — JSON body and query extractors refused as problem+json.
//! * [`kv`] — the NATS KV buckets gateway copies share.
//! * [`metrics`] — what `/metrics` exports, and the request middleware.
//! * [`reads`] — the projector's MongoDB collections, read only.
//! * [`conversation_ref`] — a conversation named by Parlor's id or
//!   ElevenLabs' (`conv_…`), resolved to Parlor's.
//! * [`elevenlabs_ids`] — live calls' ElevenLabs ids → Parlor ids (NATS KV).
//! * [`state`] — `AppState`, what every route shares.

pub mod app;
pub mod auth;
pub mod chat;
pub mod config;
pub mod conversation_ref;
pub mod elevenlabs_ids;
pub mod error;
pub mod extract;
pub mod kv;
pub mod live;
pub mod metrics;
pub mod reads;
pub mod routes;
pub mod state;

pub use app::{Application, Error};
pub use auth::{JwtSecret, Role, issue_token};
pub use config::Config;
