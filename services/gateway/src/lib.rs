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
//! * [`routes`] — one module per resource, each with its own `router()`.

pub mod app;
pub mod config;
pub mod routes;

pub use app::{Application, Error};
pub use config::Config;
