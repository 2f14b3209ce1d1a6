//! The relay of one started conversation: client text frames to
//! `subject_in`, `subject_out` messages to the client, closes both ways.
//!
//! Back-pressure: the client is read only after its previous frame was
//! handed to NATS (whose outgoing buffer is bounded), and NATS delivers into
//! a subscription buffer of `live::RELAY_BUFFER` messages drained only as
//! fast as the client socket takes them. Core NATS has no flow control, so a
//! client that falls more than that far behind loses frames (logged as a
//! slow consumer, see `app`) rather than growing memory.

use async_nats::Client;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use events::command::SessionStarted;
use futures::StreamExt;

use crate::live::close::{ABNORMAL, Close, GOING_AWAY, INTERNAL, UNSUPPORTED_DATA};
use crate::live::start::UNAVAILABLE_REASON;
use crate::live::{Live, finish_close, refuse};

/// Who ended the conversation, for the log.
#[derive(Debug)]
enum Ended {
    Client,
    ClientLost,
    Session,
    Gateway,
}

/// Client → session: the `subject_in` side.
struct Inbound<'a> {
    nats: &'a Client,
    subject: String,
}

impl Inbound<'_> {
    async fn frame(&self, text: Utf8Bytes) -> Result<(), async_nats::PublishError> {
        let body = Message::Text(text).into_data();
        self.nats.publish(self.subject.clone(), body).await
    }

    /// Tells the session this direction ended. If NATS is gone the session
    /// loses the client anyway, so a failure is only logged.
    async fn close(&self, close: &Close) {
        let published = self
            .nats
            .publish_with_headers(
                self.subject.clone(),
                close.headers(),
                close.reason.clone().into(),
            )
            .await;
        if let Err(error) = published {
            tracing::warn!(%error, code = close.code, "could not tell the session of the close");
        }
    }
}

pub async fn relay(mut socket: WebSocket, live: &Live, started: &SessionStarted) {
    let inbound = Inbound {
        nats: &live.nats,
        subject: started.subject_in.clone(),
    };
    let unavailable = Close::new(INTERNAL, UNAVAILABLE_REASON);
    let mut outbound = match live.nats.subscribe(started.subject_out.clone()).await {
        Ok(subscriber) => subscriber,
        Err(error) => {
            tracing::warn!(%error, "cannot subscribe to the conversation");
            inbound.close(&unavailable).await;
            return refuse(socket, unavailable).await;
        }
    };
    let (mut frames_in, mut frames_out) = (0u64, 0u64);
    let (ended, close) = loop {
        tokio::select! {
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if inbound.frame(text).await.is_err() {
                        refuse(socket, unavailable.clone()).await;
                        break (Ended::Gateway, unavailable);
                    }
                    frames_in += 1;
                }
                Some(Ok(Message::Binary(_))) => {
                    let close = Close::new(UNSUPPORTED_DATA, "binary frames are not supported");
                    inbound.close(&close).await;
                    refuse(socket, close.clone()).await;
                    break (Ended::Client, close);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    let close = Close::from_client(frame);
                    inbound.close(&close).await;
                    // The reply to the client's close goes out on the next read.
                    finish_close(&mut socket).await;
                    break (Ended::Client, close);
                }
                Some(Err(_)) | None => {
                    let close = Close::new(ABNORMAL, "client connection lost");
                    inbound.close(&close).await;
                    break (Ended::ClientLost, close);
                }
            },
            message = outbound.next() => {
                let Some(message) = message else {
                    refuse(socket, unavailable.clone()).await;
                    break (Ended::Gateway, unavailable);
                };
                if let Some(close) = Close::from_message(&message) {
                    refuse(socket, close.clone()).await;
                    break (Ended::Session, close);
                }
                let Ok(text) = Utf8Bytes::try_from(message.payload) else {
                    tracing::warn!("dropped a session frame that is not UTF-8");
                    continue;
                };
                if socket.send(Message::Text(text)).await.is_err() {
                    let close = Close::new(ABNORMAL, "client connection lost");
                    inbound.close(&close).await;
                    break (Ended::ClientLost, close);
                }
                frames_out += 1;
            },
            () = live.shutdown.cancelled() => {
                let close = Close::new(GOING_AWAY, "gateway shutting down");
                inbound.close(&close).await;
                refuse(socket, close.clone()).await;
                break (Ended::Gateway, close);
            }
        }
    };
    tracing::info!(
        by = ?ended,
        code = close.code,
        reason = %close.reason,
        frames_in,
        frames_out,
        "conversation relay ended"
    );
}
