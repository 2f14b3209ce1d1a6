//! Answering a request with a `Reply<T>` (a body or a refusal).

use events::command::Reply;
use serde::Serialize;

/// Publishes `reply` to the request's reply subject. A request without one
/// (a plain publish) or a closed connection is logged: the asker times out
/// and asks again.
pub async fn answer<T: Serialize>(
    client: &async_nats::Client,
    request: &async_nats::Message,
    reply: &Reply<T>,
) {
    let Some(to) = request.reply.clone() else {
        tracing::warn!(subject = %request.subject, "a request without a reply subject; ignored");
        return;
    };
    let body = match serde_json::to_vec(reply) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(subject = %request.subject, %error, "could not encode a reply");
            return;
        }
    };
    if let Err(error) = client.publish(to, body.into()).await {
        tracing::warn!(subject = %request.subject, %error, "could not answer");
    }
}
