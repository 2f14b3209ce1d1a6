//! The live subjects of one conversation (`live.<id>.in` client → agent,
//! `live.<id>.out` agent → client; DESIGN §5).
//!
//! One NATS message carries one WebSocket text frame as is. A message with
//! the `Parlor-Close-Code` header ends that direction (body = reason). A
//! message with the `Parlor-Heartbeat` header and an empty body says the
//! sender still holds the call: each side sends one every
//! [`HEARTBEAT_INTERVAL`], and a side that hears nothing from the other for
//! its heartbeat timeout treats the other as gone.
//!
//! Core NATS delivers at most once: a frame published while its receiver's
//! connection moves to another server of the cluster is gone. So frames
//! are numbered, the last ones are kept until the other side acknowledges
//! them, and a receiver that sees a number skipped asks for the rest again
//! (`events::command::live`). [`LiveSender::accept`] does all of it for the
//! messages of the other direction; the caller only acts on what it
//! returns, each frame once and in order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use events::command::live::{
    ACK_HEADER, CLOSE_CODE_HEADER, HEARTBEAT_HEADER, RESEND_HEADER, SEQ_HEADER,
};
use tokio::sync::Mutex;

use crate::close::{Close, INTERNAL};

/// How often each side of a live call says it is still there.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// Silence after which the other side is taken for gone (default of both
/// services' configuration).
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(5);
/// Sent frames kept for a resend until the other side acknowledges them
/// (about one heartbeat interval's worth), at most this many bytes: a
/// frame asked for after that is lost, and the call ends.
pub const KEPT_BYTES: usize = 512 * 1024;

/// One message on a live subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveMessage {
    Frame(Bytes),
    Close(Close),
    Heartbeat,
}

impl LiveMessage {
    /// Reads a live-subject message. A close code that is not a number is
    /// the sender's fault: it becomes 1011.
    pub fn from_message(message: &async_nats::Message) -> Self {
        let Some(headers) = message.headers.as_ref() else {
            return Self::Frame(message.payload.clone());
        };
        if let Some(code) = headers.get(CLOSE_CODE_HEADER) {
            return Self::Close(Close::new(
                code.as_str().trim().parse().unwrap_or(INTERNAL),
                String::from_utf8_lossy(&message.payload),
            ));
        }
        if headers.get(HEARTBEAT_HEADER).is_some() {
            return Self::Heartbeat;
        }
        Self::Frame(message.payload.clone())
    }
}

/// Publishes one direction of a live call, and keeps the numbering of both:
/// the frames it sent (kept until acknowledged), and the frames of the
/// other direction it [accepted](Self::accept). Clones share that state.
#[derive(Clone, Debug)]
pub struct LiveSender {
    client: async_nats::Client,
    subject: String,
    numbered: bool,
    link: Arc<Mutex<Link>>,
}

/// A resend was asked for frames no longer kept: the call cannot go on
/// whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("live frames from {from} were lost and are no longer kept")]
pub struct FramesLost {
    pub from: u64,
}

#[derive(Debug, Default)]
struct Link {
    /// The number of the last frame sent.
    sent: u64,
    /// Sent frames not yet acknowledged, oldest first.
    kept: VecDeque<(u64, Bytes)>,
    kept_bytes: usize,
    /// Frames forgotten unacknowledged (past [`KEPT_BYTES`]) up to this number.
    forgotten: u64,
    /// The number of the last frame of the other direction taken in order.
    received: u64,
    /// The first missing number asked for since the last frame taken.
    asked: Option<u64>,
}

impl Link {
    fn keep(&mut self, seq: u64, body: Bytes) {
        self.kept_bytes += body.len();
        self.kept.push_back((seq, body));
        while self.kept_bytes > KEPT_BYTES {
            let Some((seq, body)) = self.kept.pop_front() else {
                break;
            };
            self.kept_bytes -= body.len();
            self.forgotten = seq;
        }
    }

    fn acknowledged(&mut self, up_to: u64) {
        while self.kept.front().is_some_and(|(seq, _)| *seq <= up_to) {
            if let Some((_, body)) = self.kept.pop_front() {
                self.kept_bytes -= body.len();
            }
        }
    }
}

/// What one message of the other direction asks of this side.
enum Accepted {
    Take(LiveMessage),
    Drop,
    /// Ask the other side for its frames again from this number.
    Ask(u64, Option<LiveMessage>),
    /// Send our frames again from this number.
    Resend(u64),
}

impl LiveSender {
    /// The one sender of its direction for the whole call: its frames are
    /// numbered and sent again when lost.
    pub fn new(client: async_nats::Client, subject: impl Into<String>) -> Self {
        Self {
            client,
            subject: subject.into(),
            numbered: true,
            link: Arc::default(),
        }
    }

    /// A sender with no continuity (one HTTP chat turn, from whichever
    /// gateway copy took it): its frames carry no number and are taken as
    /// they come, and its heartbeats acknowledge everything.
    pub fn unnumbered(client: async_nats::Client, subject: impl Into<String>) -> Self {
        Self {
            numbered: false,
            ..Self::new(client, subject)
        }
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Hands one frame to NATS (bounded outgoing buffer), numbered and kept
    /// for a resend. An error means the NATS client is closed: the call is
    /// over anyway.
    pub async fn frame(&self, body: Bytes) -> Result<(), async_nats::PublishError> {
        if !self.numbered {
            return self.client.publish(self.subject.clone(), body).await;
        }
        let mut link = self.link.lock().await;
        link.sent += 1;
        let seq = link.sent;
        link.keep(seq, body.clone());
        // Published under the lock: frames leave in their numbers' order.
        self.publish_frame(seq, body).await
    }

    async fn publish_frame(&self, seq: u64, body: Bytes) -> Result<(), async_nats::PublishError> {
        let mut headers = HeaderMap::new();
        headers.insert(SEQ_HEADER, seq.to_string().as_str());
        self.client
            .publish_with_headers(self.subject.clone(), headers, body)
            .await
    }

    /// Says this side still holds the call, with the number of the last
    /// frame sent and of the last one received in order.
    pub async fn heartbeat(&self) -> Result<(), async_nats::PublishError> {
        let link = self.link.lock().await;
        let mut headers = HeaderMap::new();
        headers.insert(HEARTBEAT_HEADER, "1");
        if self.numbered {
            headers.insert(SEQ_HEADER, link.sent.to_string().as_str());
            headers.insert(ACK_HEADER, link.received.to_string().as_str());
        }
        self.client
            .publish_with_headers(self.subject.clone(), headers, Bytes::new())
            .await
    }

    /// Takes one message of the other direction: a frame in order, a close
    /// or a heartbeat comes back to act on; a frame already taken, or one
    /// after a gap, comes back as `None` (a gap is asked for again, and
    /// its frames come again in order). A resend the other side asks for
    /// is sent from here; `Err` when its frames are no longer kept.
    pub async fn accept(
        &self,
        message: &async_nats::Message,
    ) -> Result<Option<LiveMessage>, FramesLost> {
        let accepted = self.link.lock().await.accept(message);
        match accepted {
            Accepted::Take(message) => Ok(Some(message)),
            Accepted::Drop => Ok(None),
            Accepted::Ask(from, message) => {
                let mut headers = HeaderMap::new();
                headers.insert(RESEND_HEADER, from.to_string().as_str());
                let asked = self
                    .client
                    .publish_with_headers(self.subject.clone(), headers, Bytes::new())
                    .await;
                if let Err(error) = asked {
                    // The next heartbeat of the other side asks again.
                    tracing::warn!(subject = %self.subject, %error, from, "could not ask for lost frames");
                }
                Ok(message)
            }
            Accepted::Resend(from) => {
                let link = self.link.lock().await;
                if from <= link.forgotten {
                    return Err(FramesLost { from });
                }
                tracing::info!(subject = %self.subject, from, to = link.sent, "sending lost frames again");
                for (seq, body) in link.kept.iter().filter(|(seq, _)| *seq >= from) {
                    if self.publish_frame(*seq, body.clone()).await.is_err() {
                        break;
                    }
                }
                Ok(None)
            }
        }
    }

    /// Ends this direction and flushes, so the close reaches the other side
    /// before the caller moves on. Failures are logged: a peer that cannot
    /// be told finds out by the missing heartbeats.
    pub async fn close(&self, close: &Close) {
        let mut headers = HeaderMap::new();
        headers.insert(CLOSE_CODE_HEADER, close.code.to_string().as_str());
        let reason = Bytes::copy_from_slice(close.sendable_reason().as_bytes());
        let sent = self
            .client
            .publish_with_headers(self.subject.clone(), headers, reason)
            .await;
        if let Err(error) = sent {
            tracing::warn!(subject = %self.subject, %error, code = close.code, "could not send the close");
            return;
        }
        if let Err(error) = self.client.flush().await {
            tracing::warn!(subject = %self.subject, %error, "could not flush the close");
        }
    }
}

impl Link {
    fn accept(&mut self, message: &async_nats::Message) -> Accepted {
        let number = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .and_then(|v| v.as_str().trim().parse::<u64>().ok())
        };
        if let Some(from) = number(RESEND_HEADER) {
            return Accepted::Resend(from);
        }
        let live = LiveMessage::from_message(message);
        let seq = number(SEQ_HEADER);
        match (&live, seq) {
            (LiveMessage::Heartbeat, seq) => {
                // A peer that acknowledges nothing never asks for a resend.
                self.acknowledged(number(ACK_HEADER).unwrap_or(u64::MAX));
                match seq {
                    // Frames went missing: ask on every heartbeat until they come.
                    Some(sent) if sent > self.received => {
                        Accepted::Ask(self.received + 1, Some(live))
                    }
                    _ => Accepted::Take(live),
                }
            }
            (LiveMessage::Frame(_), Some(seq)) if seq <= self.received => Accepted::Drop,
            (LiveMessage::Frame(_), Some(seq)) if seq == self.received + 1 => {
                self.received = seq;
                self.asked = None;
                Accepted::Take(live)
            }
            (LiveMessage::Frame(_), Some(_)) => {
                let from = self.received + 1;
                if self.asked == Some(from) {
                    Accepted::Drop
                } else {
                    self.asked = Some(from);
                    Accepted::Ask(from, None)
                }
            }
            (LiveMessage::Frame(_) | LiveMessage::Close(_), _) => Accepted::Take(live),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(headers: Option<HeaderMap>, body: &'static str) -> async_nats::Message {
        async_nats::Message {
            subject: "live.x.in".into(),
            reply: None,
            payload: Bytes::from_static(body.as_bytes()),
            headers,
            status: None,
            description: None,
            length: body.len(),
        }
    }

    #[test]
    fn frames_closes_and_heartbeats_are_told_apart() {
        assert_eq!(
            LiveMessage::from_message(&message(None, "{}")),
            LiveMessage::Frame(Bytes::from_static(b"{}"))
        );
        let mut close = HeaderMap::new();
        close.insert(CLOSE_CODE_HEADER, "1009");
        assert_eq!(
            LiveMessage::from_message(&message(Some(close), "too big")),
            LiveMessage::Close(Close::new(1009, "too big"))
        );
        let mut garbled = HeaderMap::new();
        garbled.insert(CLOSE_CODE_HEADER, "soon");
        assert_eq!(
            LiveMessage::from_message(&message(Some(garbled), "")),
            LiveMessage::Close(Close::new(INTERNAL, ""))
        );
        let mut beat = HeaderMap::new();
        beat.insert(HEARTBEAT_HEADER, "1");
        assert_eq!(
            LiveMessage::from_message(&message(Some(beat), "")),
            LiveMessage::Heartbeat
        );
    }
}
