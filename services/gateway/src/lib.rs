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
//! * [`auth`] — Parlor tokens (HS256 JWTs), conversation signatures, and
//!   where requests carry them.
//! * [`live`] — a live conversation: `cmd.session.start`, then the relay
//!   between the client WebSocket and the live subjects.
//! * [`routes`] — one module per resource, each with its own `router()`.
//! * [`error`] — `ApiError`, answered as `application/problem+json`.

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod live;
pub mod routes;

pub use app::{Application, Error};
pub use auth::{JwtSecret, Role, issue_token};
pub use config::Config;
