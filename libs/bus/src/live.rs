//! The live subjects of one conversation (`live.<id>.in` client → agent,
//! `live.<id>.out` agent → client; DESIGN §5).
//!
//! One NATS message carries one WebSocket text frame as is. A message with
//! the `Parlor-Close-Code` header ends that direction (body = reason). A
//! message with the `Parlor-Heartbeat` header and an empty body says the
//! sender still holds the call: each side sends one every
//! [`HEARTBEAT_INTERVAL`], and a side that hears nothing from the other for
//! its heartbeat timeout treats the other as gone.

use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use events::command::live::{CLOSE_CODE_HEADER, HEARTBEAT_HEADER};

use crate::close::{Close, INTERNAL};

/// How often each side of a live call says it is still there.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// Silence after which the other side is taken for gone (default of both
/// services' configuration).
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Publishes one direction of a live call.
#[derive(Clone, Debug)]
pub struct LiveSender {
    client: async_nats::Client,
    subject: String,
}

impl LiveSender {
    pub fn new(client: async_nats::Client, subject: impl Into<String>) -> Self {
        Self {
            client,
            subject: subject.into(),
        }
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Hands one frame to NATS (bounded outgoing buffer). An error means the
    /// NATS client is closed: the call is over anyway.
    pub async fn frame(&self, body: Bytes) -> Result<(), async_nats::PublishError> {
        self.client.publish(self.subject.clone(), body).await
    }

    pub async fn heartbeat(&self) -> Result<(), async_nats::PublishError> {
        let mut headers = HeaderMap::new();
        headers.insert(HEARTBEAT_HEADER, "1");
        self.client
            .publish_with_headers(self.subject.clone(), headers, Bytes::new())
            .await
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
