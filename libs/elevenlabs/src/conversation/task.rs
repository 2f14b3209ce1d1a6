//! The connection task: owns the socket, answers `ping` with `pong` at once
//! (without waiting for the consumer, unless its event buffer is full),
//! forwards events, sends client messages and turns the way the socket ended
//! into a [`ConversationEnd`] or an error.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use super::handshake::Socket;
use crate::close::{CloseCode, ConversationEnd, Initiator};
use crate::error::ConversationError;
use crate::messages::{ClientMessage, ErrorEvent, ServerEvent};

/// How long to wait for the server to answer our close frame.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// The reason the JS SDK gives when the user ends (§1.6).
const USER_ENDED_REASON: &str = "User ended conversation";

pub(crate) enum Outgoing {
    Message(ClientMessage),
    Close,
}

/// What the task has learned about the end so far.
#[derive(Default)]
pub(crate) struct Tracker {
    last_error: Option<ErrorEvent>,
    agent_ended_call: bool,
    client_closed: bool,
    close_frame: Option<(Option<CloseCode>, String)>,
}

impl Tracker {
    /// Parses a text frame, answers a ping, and notes errors and `end_call`.
    /// A known event with a malformed body is kept as `Other`.
    pub(crate) async fn on_text(&mut self, socket: &mut Socket, text: &str) -> Option<ServerEvent> {
        let event = match ServerEvent::parse(text) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, "unparseable server message kept as Other");
                ServerEvent::Other(serde_json::from_str(text).ok()?)
            }
        };
        match &event {
            ServerEvent::Ping(ping) => {
                let pong = ClientMessage::pong(ping.event_id).to_json();
                if let Err(error) = socket.send(Message::text(pong)).await {
                    tracing::debug!(%error, "pong not sent");
                }
            }
            ServerEvent::Error(error) => self.last_error = Some(error.clone()),
            event if event.is_end_call() => self.agent_ended_call = true,
            _ => {}
        }
        Some(event)
    }

    pub(crate) fn on_close(&mut self, frame: Option<CloseFrame>) {
        let (code, reason) = match frame {
            Some(frame) => (
                Some(CloseCode::from_u16(u16::from(frame.code))),
                frame.reason.to_string(),
            ),
            None => (None, String::new()),
        };
        self.close_frame.get_or_insert((code, reason));
    }

    pub(crate) fn end(&self) -> Option<ConversationEnd> {
        let (code, reason) = self.close_frame.clone()?;
        Some(ConversationEnd {
            initiator: if self.client_closed {
                Initiator::Client
            } else {
                Initiator::Server
            },
            code,
            reason,
            last_error: self.last_error.clone(),
            agent_ended_call: self.agent_ended_call,
        })
    }

    /// The socket stopped yielding: a clean end if a close frame was seen.
    pub(crate) fn finish(
        &self,
        error: Option<tungstenite::Error>,
    ) -> Result<ConversationEnd, ConversationError> {
        if let Some(end) = self.end() {
            return Ok(end);
        }
        Err(match error {
            None => ConversationError::ConnectionLost("stream ended".to_owned()),
            Some(tungstenite::Error::Io(error)) => {
                ConversationError::ConnectionLost(error.to_string())
            }
            Some(
                error @ (tungstenite::Error::ConnectionClosed
                | tungstenite::Error::AlreadyClosed
                | tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                )),
            ) => ConversationError::ConnectionLost(error.to_string()),
            Some(error) => ConversationError::Protocol(error.to_string()),
        })
    }
}

/// Runs until the socket is done. Events go to `events` until its receiver
/// is dropped; after that they are discarded but pings are still answered.
pub(crate) async fn run(
    mut socket: Socket,
    mut tracker: Tracker,
    early: Vec<ServerEvent>,
    mut outgoing: mpsc::Receiver<Outgoing>,
    events: mpsc::Sender<ServerEvent>,
) -> Result<ConversationEnd, ConversationError> {
    let mut consumer_gone = false;
    for event in early {
        forward(&events, event, &mut consumer_gone).await;
    }
    let mut outgoing_open = true;
    let mut close_deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if let Some(event) = tracker.on_text(&mut socket, text.as_str()).await {
                        forward(&events, event, &mut consumer_gone).await;
                    }
                }
                Some(Ok(Message::Close(frame))) => tracker.on_close(frame),
                Some(Ok(Message::Binary(_))) => tracing::warn!("ignoring a binary frame"),
                Some(Ok(_)) => {}
                Some(Err(error)) => return tracker.finish(Some(error)),
                None => return tracker.finish(None),
            },
            command = outgoing.recv(), if outgoing_open => match command {
                Some(Outgoing::Message(message)) => {
                    if let Err(error) = socket.send(Message::text(message.to_json())).await {
                        tracing::debug!(%error, "client message not sent");
                    }
                }
                Some(Outgoing::Close) | None => {
                    // Every sender is gone (or one asked): end the call from our side.
                    outgoing_open = false;
                    if tracker.close_frame.is_none() && !tracker.client_closed {
                        tracker.client_closed = true;
                        close_deadline = Some(Instant::now() + CLOSE_HANDSHAKE_TIMEOUT);
                        let frame = CloseFrame {
                            code: WsCloseCode::Normal,
                            reason: USER_ENDED_REASON.into(),
                        };
                        if let Err(error) = socket.close(Some(frame)).await {
                            tracing::debug!(%error, "close frame not sent");
                        }
                    }
                }
            },
            () = sleep_until(close_deadline), if close_deadline.is_some() => {
                tracker.on_close(None);
                return tracker.finish(None);
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

async fn forward(events: &mpsc::Sender<ServerEvent>, event: ServerEvent, consumer_gone: &mut bool) {
    if !*consumer_gone && events.send(event).await.is_err() {
        *consumer_gone = true;
    }
}
