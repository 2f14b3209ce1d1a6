//! The service bus: how Parlor's services talk over core NATS (DESIGN §5,
//! §6). It owns the transport of the contract whose bodies live in
//! `events::command`: asking a service and waiting for its `Reply<T>`
//! (asking again while no copy is subscribed), answering such a request,
//! the live subjects' frames (numbered, and sent again when NATS dropped
//! them), closes and heartbeats, and the WebSocket close codes both ends of
//! a live call use.
//!
//! It never decides anything about a conversation or money, and never
//! touches the event log (that is `eventstore`).
//!
//! # Layout
//!
//! * [`close`] — named close codes and `Close { code, reason }`.
//! * [`live`] — `LiveMessage` (frame, close, heartbeat) and `LiveSender`
//!   (sends one direction, accepts the other's in order).
//! * [`request`] — `request(...)` with retry on no responders; `RequestError`.
//! * [`reply`] — `answer(...)`: publish a `Reply<T>` to a request.

pub mod close;
pub mod live;
pub mod reply;
pub mod request;

pub use close::Close;
pub use live::{LiveMessage, LiveSender};
pub use reply::answer;
pub use request::{RequestError, request};
