//! Where the client connects and how patient it is. Every base URL is
//! configuration so the whole client can be pointed at the simulator.

use std::time::Duration;

use url::Url;

use crate::error::ConfigError;

/// The real WebSocket host.
pub const DEFAULT_WSS_BASE: &str = "wss://api.elevenlabs.io";
/// The real REST host.
pub const DEFAULT_HTTPS_BASE: &str = "https://api.elevenlabs.io";

/// Base URLs of the two surfaces (WebSocket and REST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub wss_base: Url,
    pub https_base: Url,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            wss_base: Url::parse(DEFAULT_WSS_BASE).expect("constant URL parses"),
            https_base: Url::parse(DEFAULT_HTTPS_BASE).expect("constant URL parses"),
        }
    }
}

impl Endpoints {
    /// Both surfaces on one host, e.g. `http://127.0.0.1:4000` for a local
    /// simulator: the WebSocket base takes the matching `ws`/`wss` scheme.
    pub fn from_http_base(base: &str) -> Result<Self, ConfigError> {
        let https_base = Url::parse(base).map_err(|source| ConfigError::InvalidUrl {
            url: base.to_owned(),
            source,
        })?;
        let ws_scheme = match https_base.scheme() {
            "http" => "ws",
            "https" => "wss",
            other => {
                return Err(ConfigError::UnsupportedScheme {
                    scheme: other.to_owned(),
                });
            }
        };
        let mut wss_base = https_base.clone();
        wss_base
            .set_scheme(ws_scheme)
            .map_err(|()| ConfigError::UnsupportedScheme {
                scheme: ws_scheme.to_owned(),
            })?;
        Ok(Self {
            wss_base,
            https_base,
        })
    }

    /// `<wss_base>/v1/convai/conversation`.
    pub fn conversation_url(&self) -> Url {
        join(&self.wss_base, "v1/convai/conversation")
    }

    /// `<https_base>/<path>`, where `path` has no leading slash.
    pub fn rest_url(&self, path: &str) -> Url {
        join(&self.https_base, path)
    }
}

/// Joins without dropping a path prefix of the base (`Url::join` would replace
/// the last segment of a base that lacks a trailing slash).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/{path}"));
    url.set_query(None);
    url
}

/// Retries of REST calls refused with 429 (`too_many_concurrent_requests`,
/// `system_busy`): exponential backoff, `Retry-After` honoured when present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 disables retrying.
    pub max_attempts: u32,
    /// Delay before the second attempt when the server gives no `Retry-After`.
    pub initial_backoff: Duration,
    /// Upper bound of the exponential backoff.
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited for: the 429 is
    /// returned at once so the caller can decide.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `next_attempt` (2 = the first retry).
    pub fn backoff(&self, next_attempt: u32) -> Duration {
        let doublings = next_attempt.saturating_sub(2).min(16);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// How a conversation connection behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationOptions {
    /// Longest wait from connecting to the first server message
    /// (`conversation_initiation_metadata`).
    pub open_timeout: Duration,
    /// Ask for the `convai` subprotocol as the JS SDK does; the handshake then
    /// fails unless the server echoes it. The Python SDK asks for none.
    pub request_convai_subprotocol: bool,
    /// Largest accepted message (the Python SDK's `max_size`).
    pub max_message_bytes: usize,
    /// What the socket reads at a time. tungstenite's default (128 KiB) is
    /// allocated up front for every connection, which dominated the
    /// session's memory per live call; larger messages still grow the
    /// buffer as they arrive.
    pub read_buffer_bytes: usize,
}

impl Default for ConversationOptions {
    fn default() -> Self {
        Self {
            open_timeout: Duration::from_secs(15),
            request_convai_subprotocol: false,
            max_message_bytes: 16 << 20,
            read_buffer_bytes: 4 << 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_real_hosts() {
        let endpoints = Endpoints::default();
        assert_eq!(
            endpoints.conversation_url().as_str(),
            "wss://api.elevenlabs.io/v1/convai/conversation"
        );
        assert_eq!(
            endpoints.rest_url("v1/convai/conversations").as_str(),
            "https://api.elevenlabs.io/v1/convai/conversations"
        );
    }

    #[test]
    fn local_base_maps_schemes_and_keeps_prefixes() {
        let endpoints = Endpoints::from_http_base("http://127.0.0.1:4000/sim").unwrap();
        assert_eq!(
            endpoints.conversation_url().as_str(),
            "ws://127.0.0.1:4000/sim/v1/convai/conversation"
        );
        assert_eq!(
            endpoints.rest_url("v1/x").as_str(),
            "http://127.0.0.1:4000/sim/v1/x"
        );
        assert!(Endpoints::from_http_base("ftp://x").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(2), Duration::from_millis(250));
        assert_eq!(policy.backoff(3), Duration::from_millis(500));
        assert_eq!(policy.backoff(30), Duration::from_secs(8));
    }
}
