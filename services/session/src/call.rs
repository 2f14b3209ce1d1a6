//! One live conversation: open ElevenLabs, relay both ways, record what
//! happens, close both sides with matching codes, then fetch the cost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use elevenlabs::{
    ClientMessage, ConnectError, Conversation, ConversationInitiationClientData,
    ConversationOptions, ServerEvent, Target,
};
use events::conversation::{Failed, FailureReason, Started};
use events::{ConversationEvent, DomainEvent};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::ending::{StoppedBy, conclude};
use crate::live::{Incoming, Outgoing};
use crate::log::ConversationLog;
use crate::postcall;
use crate::service::Shared;

/// Everything a call task needs, prepared by the start command.
pub struct Call {
    pub shared: Arc<Shared>,
    pub log: ConversationLog,
    pub live_in: async_nats::Subscriber,
    pub out: Outgoing,
}

impl Call {
    pub async fn run(self) {
        let party = self.log.party().clone();
        let span = tracing::info_span!(
            "call",
            conversation_id = %party.conversation_id,
            correlation_id = %party.correlation_id,
            user_id = %party.user_id,
        );
        self.relay().instrument(span).await;
    }

    async fn relay(mut self) {
        let cancel = self.shared.cancel.clone();
        let (init, pending) = match self.await_initiation(&cancel).await {
            Ok(opening) => opening,
            Err(stopped_by) => {
                // The client left (or we stopped) before anything was opened upstream.
                let (event, _) = conclude(
                    stopped_by,
                    &Err(elevenlabs::ConversationError::TaskFailed),
                    0,
                );
                self.record(event).await;
                return;
            }
        };
        let Some(mut conversation) = self.open_upstream(init).await else {
            return;
        };
        let started = Instant::now();
        let elevenlabs_id = conversation.conversation_id().to_owned();
        let metadata = conversation.metadata().clone();
        self.record(ConversationEvent::Started(Started {
            elevenlabs_conversation_id: elevenlabs_id.clone(),
            user_input_audio_format: Some(metadata.user_input_audio_format.0.clone()),
            agent_output_audio_format: Some(metadata.agent_output_audio_format.0.clone()),
            text_only: false,
        }))
        .await;
        self.out
            .frame(ServerEvent::ConversationInitiationMetadata(metadata).to_json())
            .await;

        let sender = conversation.sender();
        let mut turns = crate::turns::Turns::default();
        let mut stopped_by = StoppedBy::Upstream;
        if let Some(first) = pending {
            stopped_by = self.forward(&sender, first).await.unwrap_or(stopped_by);
        }
        let mut client_done = stopped_by != StoppedBy::Upstream;
        loop {
            tokio::select! {
                event = conversation.next_event() => match event {
                    Some(event) => {
                        self.out.frame(event.to_json()).await;
                        if let Some(domain) = turns.on_event(&event, elapsed_ms(started)) {
                            self.record(domain).await;
                        }
                    }
                    None => break,
                },
                message = self.live_in.next(), if !client_done => {
                    let incoming = message.map_or(Incoming::Close { code: 1006, reason: String::new() }, |m| Incoming::from_message(&m));
                    if let Some(stop) = self.forward(&sender, incoming).await {
                        stopped_by = stop;
                        client_done = true;
                    }
                }
                () = cancel.cancelled(), if !client_done => {
                    stopped_by = StoppedBy::Shutdown;
                    client_done = true;
                    // Closed channel: the connection already ended; finish says how.
                    let _ = sender.close().await;
                }
            }
        }
        let duration_ms = elapsed_ms(started);
        let end = conversation.finish().await;
        let (event, close) = conclude(stopped_by, &end, duration_ms);
        tracing::info!(event = event.event_type(), duration_ms, "call over");
        self.record(event).await;
        if let Some((code, reason)) = close {
            self.out.close(code, &reason).await;
        }
        let shared = Arc::clone(&self.shared);
        postcall::report(
            &shared.rest,
            &mut self.log,
            &elevenlabs_id,
            shared.config.cost_timeout,
            shared.config.cost_poll,
            &cancel,
        )
        .await;
    }

    /// The client's first frame, if it is the initiation data, within the
    /// configured wait; any other first frame is kept to forward after
    /// opening. `Err` when the client closed or we are stopping first.
    async fn await_initiation(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(ConversationInitiationClientData, Option<Incoming>), StoppedBy> {
        let wait = self.shared.config.initiation_wait;
        let first = tokio::select! {
            () = cancel.cancelled() => return Err(StoppedBy::Shutdown),
            first = tokio::time::timeout(wait, self.live_in.next()) => first,
        };
        match first {
            Err(_elapsed) => Ok((ConversationInitiationClientData::default(), None)),
            Ok(None) => Err(StoppedBy::Client(1006)),
            Ok(Some(message)) => match Incoming::from_message(&message) {
                Incoming::Close { code, .. } => Err(StoppedBy::Client(code)),
                Incoming::Frame(text) => match ClientMessage::parse(&text) {
                    Ok(ClientMessage::ConversationInitiationClientData(init)) => Ok((*init, None)),
                    _ => Ok((
                        ConversationInitiationClientData::default(),
                        Some(Incoming::Frame(text)),
                    )),
                },
            },
        }
    }

    /// Opens the upstream conversation through a signed URL (the documented
    /// way; the key stays here). On failure records it and closes the client.
    async fn open_upstream(
        &mut self,
        init: ConversationInitiationClientData,
    ) -> Option<Conversation> {
        let shared = Arc::clone(&self.shared);
        let agent = self.log.party().agent_id.to_string();
        let opened = async {
            let url = shared.rest.get_signed_url(&agent).await.map_err(|e| {
                (
                    FailureReason::UpstreamUnavailable,
                    e.to_string(),
                    1011,
                    "upstream unavailable".to_owned(),
                )
            })?;
            let options = ConversationOptions {
                open_timeout: OPEN_TIMEOUT,
                ..Default::default()
            };
            Conversation::connect(
                &shared.config.endpoints,
                Target::SignedUrl(url),
                init,
                &options,
            )
            .await
            .map_err(|e| match e {
                ConnectError::ClosedBeforeMetadata(end) => {
                    let code = end.code.map_or(1011, |c| c.as_u16());
                    (
                        FailureReason::Refused,
                        refusal_message(&end.reason),
                        code,
                        end.reason.clone(),
                    )
                }
                other => (
                    FailureReason::UpstreamUnavailable,
                    other.to_string(),
                    1011,
                    "upstream unavailable".to_owned(),
                ),
            })
        };
        match opened.await {
            Ok(conversation) => Some(conversation),
            Err((reason, message, code, close_reason)) => {
                tracing::warn!(%message, "could not open the upstream conversation");
                self.record(ConversationEvent::Failed(Failed {
                    reason,
                    message,
                    duration_ms: 0,
                }))
                .await;
                self.out.close(code, &close_reason).await;
                None
            }
        }
    }

    /// Passes one client frame upstream. Returns why the client side is
    /// done, if it is.
    async fn forward(
        &self,
        sender: &elevenlabs::ConversationSender,
        incoming: Incoming,
    ) -> Option<StoppedBy> {
        match incoming {
            Incoming::Close { code, .. } => {
                let _ = sender.close().await;
                Some(StoppedBy::Client(code))
            }
            Incoming::Frame(text) => match ClientMessage::parse(&text) {
                // The connection answers pings itself; the client's echo would be a second pong.
                Ok(ClientMessage::Pong(_)) => None,
                Ok(message) => {
                    // A send error means upstream is gone: the event loop sees it end.
                    let _ = sender.send(message).await;
                    None
                }
                Err(_) => {
                    let _ = sender.close().await;
                    Some(StoppedBy::ClientProtocolError)
                }
            },
        }
    }

    async fn record(&mut self, event: ConversationEvent) {
        if let Err(e) = self.log.append(event).await {
            tracing::error!(error = %e, "could not append to the conversation's log");
        }
    }
}

/// Longest wait for ElevenLabs' metadata after connecting.
const OPEN_TIMEOUT: Duration = Duration::from_secs(15);

fn refusal_message(reason: &str) -> String {
    if reason.is_empty() {
        "ElevenLabs refused the conversation".to_owned()
    } else {
        reason.to_owned()
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
