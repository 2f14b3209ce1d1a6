//! One live conversation over the WebSocket (§1): open, send the initiation
//! data, wait for the metadata, then a stream of [`ServerEvent`]s in and
//! [`ClientMessage`]s out until a typed [`ConversationEnd`].

mod handshake;
mod task;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

pub use handshake::Target;

use crate::close::ConversationEnd;
use crate::config::{ConversationOptions, Endpoints};
use crate::error::{ConnectError, ConversationError, SendError};
use crate::messages::{
    ClientMessage, ConversationInitiationClientData, InitiationMetadata, ServerEvent,
};
use task::{Outgoing, Tracker};

/// Server events buffered for a slow consumer (about four minutes of
/// 250 ms audio chunks) before the task stops reading the socket.
const EVENT_BUFFER: usize = 1024;
/// Client messages queued before `send` waits.
const OUTGOING_BUFFER: usize = 256;
/// Events tolerated before the metadata arrives (J only warns about them).
const MAX_EARLY_EVENTS: usize = 64;

/// A cloneable handle that sends client messages into the conversation.
#[derive(Debug, Clone)]
pub struct ConversationSender {
    outgoing: mpsc::Sender<Outgoing>,
}

impl ConversationSender {
    pub async fn send(&self, message: ClientMessage) -> Result<(), SendError> {
        self.outgoing
            .send(Outgoing::Message(message))
            .await
            .map_err(|_| SendError)
    }

    /// Ends the conversation from the client side (close 1000).
    pub async fn close(&self) -> Result<(), SendError> {
        self.outgoing
            .send(Outgoing::Close)
            .await
            .map_err(|_| SendError)
    }
}

/// A live conversation. Read events with [`Conversation::next_event`] (or as
/// a `Stream`); when it yields `None`, [`Conversation::finish`] says how the
/// conversation ended. Dropping every handle closes it with 1000.
#[derive(Debug)]
pub struct Conversation {
    metadata: InitiationMetadata,
    events: mpsc::Receiver<ServerEvent>,
    sender: ConversationSender,
    task: JoinHandle<Result<ConversationEnd, ConversationError>>,
}

impl Conversation {
    /// Opens the socket, sends `init` as `conversation_initiation_client_data`
    /// and waits (up to `options.open_timeout`) for the initiation metadata.
    pub async fn connect(
        endpoints: &Endpoints,
        target: Target,
        init: ConversationInitiationClientData,
        options: &ConversationOptions,
    ) -> Result<Self, ConnectError> {
        let opened = tokio::time::timeout(options.open_timeout, async {
            let mut socket = handshake::open(endpoints, target, options).await?;
            let init = ClientMessage::ConversationInitiationClientData(Box::new(init)).to_json();
            socket
                .send(Message::text(init))
                .await
                .map_err(|error| ConnectError::Transport(Box::new(error)))?;
            let mut tracker = Tracker::default();
            let (metadata, early) = await_metadata(&mut socket, &mut tracker).await?;
            Ok::<_, ConnectError>((socket, tracker, metadata, early))
        })
        .await
        .map_err(|_| ConnectError::MetadataTimeout(options.open_timeout))?;
        let (socket, tracker, metadata, early) = opened?;
        let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
        let (outgoing_tx, outgoing) = mpsc::channel(OUTGOING_BUFFER);
        let task = tokio::spawn(task::run(socket, tracker, early, outgoing, events_tx));
        Ok(Self {
            metadata,
            events,
            sender: ConversationSender {
                outgoing: outgoing_tx,
            },
            task,
        })
    }

    /// The server's `conv_…` id.
    pub fn conversation_id(&self) -> &str {
        &self.metadata.conversation_id
    }

    pub fn metadata(&self) -> &InitiationMetadata {
        &self.metadata
    }

    pub fn sender(&self) -> ConversationSender {
        self.sender.clone()
    }

    pub async fn send(&self, message: ClientMessage) -> Result<(), SendError> {
        self.sender.send(message).await
    }

    /// The next server event; `None` once the socket is done. Pings come
    /// through too (already answered). An event of a known type whose body
    /// does not parse arrives as [`ServerEvent::Other`] rather than failing.
    pub async fn next_event(&mut self) -> Option<ServerEvent> {
        self.events.recv().await
    }

    /// How the conversation ended, once the server (or another sender)
    /// ends it. Unread events are discarded.
    pub async fn finish(self) -> Result<ConversationEnd, ConversationError> {
        let Self {
            events,
            sender,
            task,
            ..
        } = self;
        drop(events);
        let outcome = task.await.unwrap_or(Err(ConversationError::TaskFailed));
        drop(sender);
        outcome
    }

    /// Closes with 1000 "User ended conversation" and waits for the end.
    pub async fn close(self) -> Result<ConversationEnd, ConversationError> {
        // A closed channel means the task already ended; `finish` reports how.
        let _ = self.sender.close().await;
        self.finish().await
    }
}

impl Stream for Conversation {
    type Item = ServerEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ServerEvent>> {
        self.events.poll_recv(cx)
    }
}

/// Reads until `conversation_initiation_metadata`, answering pings and
/// keeping (a bounded number of) any events that come before it.
async fn await_metadata(
    socket: &mut handshake::Socket,
    tracker: &mut Tracker,
) -> Result<(InitiationMetadata, Vec<ServerEvent>), ConnectError> {
    let mut early = Vec::new();
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => match tracker.on_text(socket, text.as_str()).await {
                Some(ServerEvent::ConversationInitiationMetadata(metadata)) => {
                    return Ok((metadata, early));
                }
                Some(event) if early.len() < MAX_EARLY_EVENTS => {
                    tracing::warn!(event_type = ?event.event_type(), "event before the metadata");
                    early.push(event);
                }
                Some(event) => {
                    return Err(ConnectError::UnexpectedFirstMessage(event.to_json()));
                }
                None => {}
            },
            Some(Ok(Message::Close(frame))) => {
                tracker.on_close(frame);
                // Drive the closing handshake to its end before reporting.
                while let Some(Ok(_)) = socket.next().await {}
                return match tracker.end() {
                    Some(end) => Err(ConnectError::ClosedBeforeMetadata(Box::new(end))),
                    None => Err(ConnectError::LostBeforeMetadata),
                };
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Err(ConnectError::LostBeforeMetadata),
        }
    }
}
