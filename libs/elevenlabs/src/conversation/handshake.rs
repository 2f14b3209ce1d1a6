//! Opening the socket: the URL (signed, or agent id plus `xi-api-key`), the
//! `convai` subprotocol, the frame limit and a rustls connector.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream, tungstenite};
use url::Url;

use crate::config::{ConversationOptions, Endpoints};
use crate::error::ConnectError;
use crate::secret::ApiKey;

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The subprotocol the JS SDK requests (§1.1).
const CONVAI_SUBPROTOCOL: &str = "convai";

/// Where to open the conversation.
#[derive(Debug, Clone)]
pub enum Target {
    /// A URL from `get-signed-url`, used unchanged.
    SignedUrl(Url),
    /// `?agent_id=<id>` on the configured WebSocket base: a public agent, or
    /// (unconfirmed, §7) a private one with the key on the upgrade request.
    Agent {
        agent_id: String,
        api_key: Option<ApiKey>,
    },
}

pub(crate) async fn open(
    endpoints: &Endpoints,
    target: Target,
    options: &ConversationOptions,
) -> Result<Socket, ConnectError> {
    let (url, api_key) = match target {
        Target::SignedUrl(url) => (url, None),
        Target::Agent { agent_id, api_key } => {
            let mut url = endpoints.conversation_url();
            url.query_pairs_mut().append_pair("agent_id", &agent_id);
            (url, api_key)
        }
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|error| ConnectError::Transport(Box::new(error)))?;
    if let Some(key) = api_key {
        let value = HeaderValue::from_str(key.expose()).map_err(|_| ConnectError::InvalidApiKey)?;
        request.headers_mut().insert("xi-api-key", value);
    }
    if options.request_convai_subprotocol {
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(CONVAI_SUBPROTOCOL),
        );
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(options.max_message_bytes))
        .max_frame_size(Some(options.max_message_bytes))
        .read_buffer_size(options.read_buffer_bytes);
    let connector = match url.scheme() {
        "wss" => tls_connector()?,
        _ => Connector::Plain,
    };
    // Nagle off: audio chunks and pongs should leave at once.
    match tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(connector),
    )
    .await
    {
        Ok((socket, _response)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                .unwrap_or_default();
            Err(ConnectError::Refused { status, body })
        }
        Err(tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(error),
        )) => Err(ConnectError::Subprotocol(error.to_string())),
        Err(error) => Err(ConnectError::Transport(Box::new(error))),
    }
}

/// A connector with ring and the webpki roots chosen explicitly, so it works
/// whatever crypto providers other crates in the build enable.
fn tls_connector() -> Result<Connector, ConnectError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ConnectError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Connector::Rustls(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_connector_builds_with_ring() {
        assert!(matches!(tls_connector(), Ok(Connector::Rustls(_))));
    }
}
