//! Live conversations: from an admitted WebSocket to a session, then frames
//! relayed both ways over the conversation's live subjects (DESIGN §5, §6).
//!
//! # Layout
//!
//! * [`bounds`] — a call's bounds (frame size, rates, messages), checked
//!   on every client frame.
//! * [`close`] — closes between the client socket and `bus::Close`.
//! * [`limit`] — `LiveCalls`, the per-user cap on open calls, across
//!   gateway copies (NATS KV).
//! * [`start`] — `cmd.session.start` and how its failures close the socket.
//! * [`relay`] — the relay loop of one started conversation.

pub mod bounds;
pub mod close;
pub mod limit;
pub mod relay;
pub mod start;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use events::command::StartSession;
use events::{AgentId, CorrelationId, UserId};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use bus::Close;

use crate::elevenlabs_ids::ElevenLabsIds;
use crate::live::bounds::Bounds;
use crate::live::limit::{LiveCall, LiveCalls};

/// How long a closing handshake may take before the socket is dropped.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// What every live call shares: NATS, limits, and the shutdown signal.
#[derive(Clone)]
pub struct Live {
    pub nats: async_nats::Client,
    pub calls: Arc<LiveCalls>,
    /// Where each call's ElevenLabs id is recorded as its first frame passes.
    pub elevenlabs_ids: ElevenLabsIds,
    pub start_timeout: Duration,
    pub bounds: Bounds,
    /// Silence from the session after which its copy is taken for gone.
    pub heartbeat_timeout: Duration,
    /// Cancelled when the gateway stops: open calls close with 1001.
    pub shutdown: CancellationToken,
    /// Tracks open calls so the gateway can wait for their closes to go out.
    pub tracker: TaskTracker,
}

/// A caller let in: who, to which agent, holding one of their call slots.
pub struct Admission {
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub correlation_id: CorrelationId,
    pub call: LiveCall,
}

impl Live {
    /// Runs one admitted conversation to its end.
    pub async fn converse(self, socket: WebSocket, admission: Admission) {
        let span = tracing::info_span!(
            "live",
            user_id = %admission.user_id,
            agent_id = %admission.agent_id,
            correlation_id = %admission.correlation_id,
            conversation_id = tracing::field::Empty,
        );
        let _open = self.tracker.token();
        self.run(socket, admission).instrument(span).await;
    }

    async fn run(self, socket: WebSocket, admission: Admission) {
        let request = StartSession {
            user_id: admission.user_id,
            agent_id: admission.agent_id,
            correlation_id: admission.correlation_id,
            // The client's frames, its initiation data first, go on
            // `live.<id>.in` once the session is open (where the session
            // waits for them), so nothing is read from it before.
            initiation: None,
        };
        let started = match start::start_session(&self.nats, &request, self.start_timeout).await {
            Ok(started) => started,
            Err(error) => {
                tracing::warn!(%error, "conversation not started");
                refuse(socket, start::close_for(&error)).await;
                return admission.call.end().await;
            }
        };
        tracing::Span::current().record(
            "conversation_id",
            tracing::field::display(&started.conversation_id),
        );
        tracing::info!("conversation started");
        relay::relay(socket, &self, &started).await;
        admission.call.end().await;
    }
}

/// Closes the socket with `close` and waits (briefly) for the client's reply.
pub async fn refuse(mut socket: WebSocket, close: Close) {
    tracing::info!(code = close.code, reason = %close.reason, "closing client");
    if socket
        .send(Message::Close(Some(close::frame(&close))))
        .await
        .is_ok()
    {
        finish_close(&mut socket).await;
    }
}

/// Reads until the client's half of the closing handshake, at most
/// [`CLOSE_GRACE`]; whatever it still sends is dropped.
pub async fn finish_close(socket: &mut WebSocket) {
    let _ = timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}
