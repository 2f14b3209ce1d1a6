//! The ElevenLabs Agents client: protocol types, the conversation WebSocket,
//! the REST surface and post-call webhook verification, all as described in
//! `shared/elevenlabs-protocol.md`. Every base URL is configuration, so the
//! same code talks to the real service or to `elevenlabs-sim`.
//!
//! This crate owns the wire: message shapes, close codes, REST error shapes,
//! signatures. It never decides money, stores anything, or knows about
//! Parlor's events; callers turn what it returns into domain events.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use elevenlabs::{
//!     ApiKey, ClientMessage, Conversation, ConversationOptions, Endpoints, RestClient,
//!     RetryPolicy, ServerEvent, Target,
//! };
//!
//! let endpoints = Endpoints::default();
//! let rest = RestClient::new(endpoints.clone(), ApiKey::new("sk_..."), RetryPolicy::default())?;
//! let signed = rest.get_signed_url("agent_...").await?;
//! let options = ConversationOptions::default();
//! let mut call =
//!     Conversation::connect(&endpoints, Target::SignedUrl(signed), Default::default(), &options)
//!         .await?;
//! let id = call.conversation_id().to_owned();
//! call.send(ClientMessage::user_message("Hello")).await?;
//! while let Some(event) = call.next_event().await {
//!     if let ServerEvent::AgentResponse(response) = event {
//!         tracing::info!(text = %response.agent_response, "agent said");
//!     }
//! }
//! let end = call.finish().await?; // typed: end.kind(), end.code
//! let record = rest
//!     .wait_for_conversation(&id, Duration::from_secs(60), Duration::from_secs(1))
//!     .await?;
//! tracing::info!(?end, cost = ?record.metadata.cost, "call over");
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `messages`: client → server and server → client messages, parsed
//!   tolerantly (unknown types kept as `Other`, key order irrelevant).
//! - `conversation`: one live conversation (connect, ping/pong, events in,
//!   messages out, typed ending).
//! - `close`: close codes, `error_type`s and [`ConversationEnd`].
//! - `rest`: [`RestClient`] and the conversation record models.
//! - `webhook`: `ElevenLabs-Signature` verification and envelope parsing.
//! - `config`: base URLs, retry policy, connection options.
//! - `secret`: [`ApiKey`] and [`WebhookSecret`], which never print.
//! - `error`: one error enum per operation.

pub mod close;
pub mod config;
pub mod conversation;
pub mod error;
pub mod messages;
pub mod rest;
pub mod secret;
pub mod webhook;

pub use close::{CloseCode, ConversationEnd, EndKind, ErrorType, Initiator};
pub use config::{ConversationOptions, Endpoints, RetryPolicy};
pub use conversation::{Conversation, ConversationSender, Target};
pub use error::{
    ConfigError, ConnectError, ConversationError, ParseError, RestError, SendError, WebhookError,
};
pub use messages::{ClientMessage, ConversationInitiationClientData, ServerEvent};
pub use rest::RestClient;
pub use secret::{ApiKey, WebhookSecret};
pub use webhook::{WebhookEvent, WebhookPayload};
