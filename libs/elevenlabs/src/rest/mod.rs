//! The REST surface (§2) over reqwest: signed URLs, conversation records
//! (list with cursor paging, get, delete), errors mapped from the documented
//! body shapes, and 429s retried with backoff within a bounded attempt count.

mod errors;
mod models;
mod query;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

pub use models::{
    Analysis, CallError, Charging, ConversationDetails, ConversationMetadata, ConversationPage,
    ConversationStatus, ConversationSummary, CriterionResult, DataCollectionResult, Outcome, Role,
    ToolCall, ToolResult, TranscriptTurn,
};
pub use query::ListQuery;

use crate::config::{Endpoints, RetryPolicy};
use crate::error::{ConfigError, RestError};
use crate::secret::ApiKey;

/// A REST client bound to one API key.
#[derive(Debug, Clone)]
pub struct RestClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    api_key: ApiKey,
    retry: RetryPolicy,
}

impl RestClient {
    pub fn new(
        endpoints: Endpoints,
        api_key: ApiKey,
        retry: RetryPolicy,
    ) -> Result<Self, RestError> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(RestError::Transport)?;
        Ok(Self {
            http,
            endpoints,
            api_key,
            retry,
        })
    }

    /// `GET /v1/convai/conversation/get-signed-url?agent_id=…`: a WebSocket
    /// URL for a private agent, to be used within 15 minutes.
    pub async fn get_signed_url(&self, agent_id: &str) -> Result<Url, RestError> {
        #[derive(serde::Deserialize)]
        struct SignedUrl {
            signed_url: String,
        }
        let mut url = self
            .endpoints
            .rest_url("v1/convai/conversation/get-signed-url");
        url.query_pairs_mut().append_pair("agent_id", agent_id);
        let body: SignedUrl = self.json(Method::GET, url).await?;
        Url::parse(&body.signed_url).map_err(|_| RestError::BadSignedUrl(body.signed_url))
    }

    /// One page of `GET /v1/convai/conversations`.
    pub async fn list_conversations(
        &self,
        query: &ListQuery,
    ) -> Result<ConversationPage, RestError> {
        let mut url = self.endpoints.rest_url("v1/convai/conversations");
        query.apply(&mut url);
        self.json(Method::GET, url).await
    }

    /// Follows `next_cursor` from `query.cursor` for at most `max_pages` pages.
    pub async fn list_all_conversations(
        &self,
        query: &ListQuery,
        max_pages: usize,
    ) -> Result<Vec<ConversationSummary>, RestError> {
        let mut query = query.clone();
        let mut all = Vec::new();
        for _ in 0..max_pages {
            let page = self.list_conversations(&query).await?;
            all.extend(page.conversations);
            match page.next_cursor {
                Some(cursor) if page.has_more => query.cursor = Some(cursor),
                _ => break,
            }
        }
        Ok(all)
    }

    /// `GET /v1/convai/conversations/{id}`.
    pub async fn get_conversation(
        &self,
        conversation_id: &str,
    ) -> Result<ConversationDetails, RestError> {
        let url = self.conversation_url(conversation_id)?;
        self.json(Method::GET, url).await
    }

    /// Polls the record every `poll_every` until it is `done` or `failed`,
    /// giving up after `timeout` with [`RestError::NotFinished`].
    pub async fn wait_for_conversation(
        &self,
        conversation_id: &str,
        timeout: Duration,
        poll_every: Duration,
    ) -> Result<ConversationDetails, RestError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let details = self.get_conversation(conversation_id).await?;
            if details.status.is_final() {
                return Ok(details);
            }
            if tokio::time::Instant::now() + poll_every > deadline {
                return Err(RestError::NotFinished {
                    conversation_id: conversation_id.to_owned(),
                    status: String::from(details.status),
                });
            }
            tokio::time::sleep(poll_every).await;
        }
    }

    /// `DELETE /v1/convai/conversations/{id}`; the body (JSON or empty) is ignored.
    pub async fn delete_conversation(&self, conversation_id: &str) -> Result<(), RestError> {
        let url = self.conversation_url(conversation_id)?;
        self.send(Method::DELETE, url).await.map(drop)
    }

    fn conversation_url(&self, conversation_id: &str) -> Result<Url, RestError> {
        let mut url = self.endpoints.rest_url("v1/convai/conversations");
        url.path_segments_mut()
            .map_err(|()| ConfigError::UnsupportedScheme {
                scheme: self.endpoints.https_base.scheme().to_owned(),
            })?
            .push(conversation_id);
        Ok(url)
    }

    async fn json<T: DeserializeOwned>(&self, method: Method, url: Url) -> Result<T, RestError> {
        let bytes = self.send(method, url).await?;
        serde_json::from_slice(&bytes).map_err(RestError::Decode)
    }

    /// Sends with the key, retrying 429s per the policy; returns the body of
    /// a success or the mapped error.
    async fn send(&self, method: Method, url: Url) -> Result<bytes::Bytes, RestError> {
        let mut attempt = 1;
        loop {
            let response = self
                .http
                .request(method.clone(), url.clone())
                .header("xi-api-key", self.api_key.expose())
                .send()
                .await
                .map_err(RestError::Transport)?;
            let status = response.status();
            let retry_after = errors::retry_after(response.headers());
            let body = response.bytes().await.map_err(RestError::Transport)?;
            if status.is_success() {
                return Ok(body);
            }
            let error = errors::from_response(status, retry_after, attempt, &body);
            let wait = match retry_after {
                Some(wait) if wait > self.retry.max_retry_after => None,
                Some(wait) => Some(wait),
                None => Some(self.retry.backoff(attempt + 1)),
            };
            match wait {
                Some(wait)
                    if status == StatusCode::TOO_MANY_REQUESTS
                        && attempt < self.retry.max_attempts =>
                {
                    tracing::debug!(attempt, ?wait, "429 from ElevenLabs, retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return Err(error),
            }
        }
    }
}
