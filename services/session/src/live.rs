//! The live subjects' frames (`events::command::live`): one NATS message per
//! WebSocket text frame, or a close carried in the `Parlor-Close-Code` header.

use async_nats::HeaderMap;
use events::command::live::CLOSE_CODE_HEADER;

/// One message from the gateway on `live.<id>.in`.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    Frame(String),
    Close { code: u16, reason: String },
}

impl Incoming {
    pub fn from_message(message: &async_nats::Message) -> Self {
        let body = String::from_utf8_lossy(&message.payload).into_owned();
        let code = message
            .headers
            .as_ref()
            .and_then(|h| h.get(CLOSE_CODE_HEADER))
            .map(|v| v.as_str().parse().unwrap_or(1006));
        match code {
            Some(code) => Self::Close { code, reason: body },
            None => Self::Frame(body),
        }
    }
}

/// Publishes frames and the final close to the gateway on `live.<id>.out`.
#[derive(Clone)]
pub struct Outgoing {
    client: async_nats::Client,
    subject: String,
}

impl Outgoing {
    pub fn new(client: async_nats::Client, subject: String) -> Self {
        Self { client, subject }
    }

    /// Core NATS publish only fails when the client is closed; the call is
    /// then over anyway, so failures are logged, not returned.
    pub async fn frame(&self, json: String) {
        if let Err(e) = self.client.publish(self.subject.clone(), json.into()).await {
            tracing::warn!(subject = %self.subject, error = %e, "could not relay a frame");
        }
    }

    pub async fn close(&self, code: u16, reason: &str) {
        let mut headers = HeaderMap::new();
        headers.insert(CLOSE_CODE_HEADER, code.to_string().as_str());
        // A close reason is at most 123 bytes on the wire.
        let reason = truncate(reason, 123);
        if let Err(e) = self
            .client
            .publish_with_headers(self.subject.clone(), headers, reason.to_owned().into())
            .await
        {
            tracing::warn!(subject = %self.subject, error = %e, "could not relay the close");
        }
        // Best effort: the close should reach the gateway before we move on.
        let _ = self.client.flush().await;
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
