//! The I/O shell of one live call: opens ElevenLabs, then feeds what
//! happens (client messages, upstream events, ticks, the ledger's answers,
//! the log's failure) to the call's rules (`core`) and carries out what
//! they say. Frames pass both ways at once; events go to the call's
//! pipelined writer and are never waited for here. After the call it
//! fetches the cost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::live::HEARTBEAT_INTERVAL;
use bus::{Close, LiveMessage, LiveSender};
use elevenlabs::{
    ClientMessage, ConnectError, Conversation, ConversationInitiationClientData,
    ConversationOptions, ServerEvent, Target,
};
use events::command::{ExtendHold, HoldExtended, RefusalCode, subject};
use events::conversation::{Failed, FailureReason, Started};
use events::{ConversationEvent, DomainEvent};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::core::{Effect, Input, LiveCall, Output};
use crate::ending::{StoppedBy, conclude};
use crate::fold::Facts;
use crate::log::ConversationLog;
use crate::postcall;
use crate::service::Shared;
use crate::writer::Writer;

/// Longest wait for ElevenLabs' metadata after connecting.
const OPEN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the ledger may take to answer an extension.
const EXTEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything a call task needs, prepared by the start command.
pub struct Call {
    pub shared: Arc<Shared>,
    pub log: ConversationLog,
    pub facts: Facts,
    pub live_in: async_nats::Subscriber,
    pub out: LiveSender,
    /// Call time the start hold covers (`None`: never extended).
    pub covers_ms: Option<u64>,
}

/// The ledger's answer to one extension.
type Extension = Input<'static>;

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
        let heartbeats = self.heartbeats();
        let (init, pending) = match self.await_initiation(&cancel).await {
            Ok(opening) => opening,
            Err(stopped_by) => {
                heartbeats.abort();
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
        let text_only = is_text_only(&init);
        let opened = self.open_upstream(init).await;
        heartbeats.abort();
        let Some(mut conversation) = opened else {
            return;
        };
        let started = Instant::now();
        let elevenlabs_id = conversation.conversation_id().to_owned();
        let metadata = conversation.metadata().clone();
        self.record(ConversationEvent::Started(Started {
            elevenlabs_conversation_id: elevenlabs_id.clone(),
            user_input_audio_format: Some(metadata.user_input_audio_format.0.clone()),
            agent_output_audio_format: Some(metadata.agent_output_audio_format.0.clone()),
            text_only,
        }))
        .await;
        self.frame(ServerEvent::ConversationInitiationMetadata(metadata).to_json())
            .await;

        let config = &self.shared.config;
        let mut call = LiveCall::new(config.limits, self.facts.clone(), self.covers_ms);
        let mut writer = Writer::spawn(self.log, config.log_outage);
        let sender = conversation.sender();
        let (extensions_tx, mut extensions) = mpsc::channel::<Extension>(4);
        let mut tick = tokio::time::interval(HEARTBEAT_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let shell = Shell {
            shared: &self.shared,
            out: &self.out,
            sender: &sender,
            extensions: &extensions_tx,
        };
        if let Some(first) = pending {
            let output = call.step(Input::Client(first), 0);
            shell.carry_out(&mut call, output, 0, &writer).await;
        }
        loop {
            let output = tokio::select! {
                event = conversation.next_event() => match event {
                    Some(event) => call.step(Input::Upstream(&event), elapsed_ms(started)),
                    None => break,
                },
                message = self.live_in.next(), if !call.client_done() => {
                    let Some(message) = accept(&self.out, message).await else {
                        continue;
                    };
                    call.step(Input::Client(message), elapsed_ms(started))
                }
                _ = tick.tick() => {
                    if let Err(error) = self.out.heartbeat().await {
                        tracing::warn!(%error, "could not send a heartbeat");
                    }
                    call.step(Input::Tick, elapsed_ms(started))
                }
                Some(answer) = extensions.recv() => call.step(answer, elapsed_ms(started)),
                () = writer.failed() => call.step(Input::LogFailed, elapsed_ms(started)),
                () = cancel.cancelled(), if !call.client_done() => {
                    call.step(Input::Shutdown, elapsed_ms(started))
                }
            };
            shell
                .carry_out(&mut call, output, elapsed_ms(started), &writer)
                .await;
        }
        let duration_ms = elapsed_ms(started);
        let end = conversation.finish().await;
        let output = call.step(Input::UpstreamEnded(&end), duration_ms);
        if let Some(event) = output.events.last() {
            tracing::info!(event = event.event_type(), duration_ms, "call over");
        }
        shell
            .carry_out(&mut call, output, duration_ms, &writer)
            .await;
        let log = match writer.finish().await {
            Ok(log) => log,
            Err(error) => {
                tracing::error!(%error, "the call's log writer failed");
                return;
            }
        };
        let shared = Arc::clone(&self.shared);
        postcall::report(
            &shared.rest,
            log.store(),
            log.party(),
            &elevenlabs_id,
            shared.config.cost_timeout,
            shared.config.cost_poll,
            &cancel,
        )
        .await;
    }

    /// Heartbeats to the gateway while the call is being opened (the relay
    /// loop sends them itself afterwards).
    fn heartbeats(&self) -> tokio::task::JoinHandle<()> {
        let out = self.out.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(HEARTBEAT_INTERVAL);
            loop {
                every.tick().await;
                let _ = out.heartbeat().await;
            }
        })
    }

    /// The client's first frame, if it is the initiation data, within the
    /// configured wait; any other first frame is kept to pass on after
    /// opening. Heartbeats are skipped. `Err` when the client closed or we
    /// are stopping first.
    async fn await_initiation(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(ConversationInitiationClientData, Option<LiveMessage>), StoppedBy> {
        let deadline = tokio::time::Instant::now() + self.shared.config.initiation_wait;
        loop {
            let first = tokio::select! {
                () = cancel.cancelled() => return Err(StoppedBy::Shutdown),
                first = tokio::time::timeout_at(deadline, self.live_in.next()) => first,
            };
            let message = match first {
                Err(_elapsed) => return Ok((ConversationInitiationClientData::default(), None)),
                Ok(message) => accept(&self.out, message).await,
            };
            let Some(message) = message else {
                continue;
            };
            match message {
                LiveMessage::Heartbeat => {}
                LiveMessage::Close(close) => return Err(crate::core::stopped_by(&close)),
                LiveMessage::Frame(frame) => {
                    let parsed = std::str::from_utf8(&frame).map(ClientMessage::parse);
                    return match parsed {
                        Ok(Ok(ClientMessage::ConversationInitiationClientData(init))) => {
                            Ok((*init, None))
                        }
                        _ => Ok((
                            ConversationInitiationClientData::default(),
                            Some(LiveMessage::Frame(frame)),
                        )),
                    };
                }
            }
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
                    Close::new(bus::close::INTERNAL, "upstream unavailable"),
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
                    let code = end.code.map_or(bus::close::INTERNAL, |c| c.as_u16());
                    (
                        FailureReason::Refused,
                        refusal_message(&end.reason),
                        Close::new(code, end.reason.clone()),
                    )
                }
                other => (
                    FailureReason::UpstreamUnavailable,
                    other.to_string(),
                    Close::new(bus::close::INTERNAL, "upstream unavailable"),
                ),
            })
        };
        match opened.await {
            Ok(conversation) => Some(conversation),
            Err((reason, message, close)) => {
                tracing::warn!(%message, "could not open the upstream conversation");
                self.record(ConversationEvent::Failed(Failed {
                    reason,
                    message,
                    duration_ms: 0,
                }))
                .await;
                self.out.close(&close).await;
                None
            }
        }
    }

    async fn frame(&self, json: String) {
        if let Err(error) = self.out.frame(json.into()).await {
            tracing::warn!(%error, "could not relay a frame");
        }
    }

    /// Before and after the live part: one event at a time.
    async fn record(&mut self, event: ConversationEvent) {
        self.facts.record(&event);
        if let Err(e) = self.log.append(event).await {
            tracing::error!(error = %e, "could not append to the conversation's log");
        }
    }
}

/// Carries out what the call's rules decided.
struct Shell<'a> {
    shared: &'a Arc<Shared>,
    out: &'a LiveSender,
    sender: &'a elevenlabs::ConversationSender,
    extensions: &'a mpsc::Sender<Extension>,
}

impl Shell<'_> {
    async fn carry_out(&self, call: &mut LiveCall, output: Output, now_ms: u64, writer: &Writer) {
        let mut pending = vec![output];
        while let Some(output) = pending.pop() {
            for frame in output.to_client {
                if let Err(error) = self.out.frame(frame.into()).await {
                    tracing::warn!(%error, "could not relay a frame");
                }
            }
            for message in output.to_upstream {
                // A send error means upstream is gone: the event loop sees it end.
                let _ = self.sender.send(message).await;
            }
            for event in output.events {
                if let Err(error) = writer.push(event) {
                    tracing::error!(%error, "the call cannot record its events");
                    pending.push(call.step(Input::LogFailed, now_ms));
                }
            }
            for effect in output.effects {
                match effect {
                    // Closed channel: the connection already ended; its end says how.
                    Effect::CloseUpstream => {
                        let _ = self.sender.close().await;
                    }
                    Effect::CloseClient(close) => self.out.close(&close).await,
                    Effect::ExtendHold { period } => self.extend(call, period),
                }
            }
        }
    }

    /// Asks the ledger for the next period without holding up the relay.
    fn extend(&self, call: &LiveCall, period: u32) {
        let Some(party) = call.facts().party.clone() else {
            return;
        };
        let client = self.shared.store.client().clone();
        let answers = self.extensions.clone();
        let request = ExtendHold {
            conversation_id: party.conversation_id,
            user_id: party.user_id,
            correlation_id: party.correlation_id,
            period,
        };
        tokio::spawn(async move {
            let asked = bus::request::<_, HoldExtended>(
                &client,
                subject::LEDGER_EXTEND,
                &request,
                EXTEND_TIMEOUT,
            )
            .await;
            let answer = match asked {
                Ok(extended) => Input::HoldExtended {
                    period,
                    covers_ms: extended.covers_ms,
                },
                Err(e) if e.refusal().map(|r| r.code) == Some(RefusalCode::InsufficientCredits) => {
                    Input::ExtensionRefused { period }
                }
                Err(error) => {
                    tracing::warn!(%error, period, "the ledger did not extend the hold");
                    Input::ExtensionUnanswered { period }
                }
            };
            let _ = answers.send(answer).await;
        });
    }
}

/// One message from the gateway, once the live link's numbering has
/// taken it (`None`: a repeat, or a frame after a gap that comes again).
/// The subscription's end, or lost frames no longer kept, end the client's side.
async fn accept(out: &LiveSender, message: Option<async_nats::Message>) -> Option<LiveMessage> {
    let Some(message) = message else {
        return Some(LiveMessage::Close(Close::new(bus::close::ABNORMAL, "")));
    };
    match out.accept(&message).await {
        Ok(message) => message,
        Err(lost) => {
            tracing::warn!(%lost, "the gateway asked for frames no longer kept");
            let close = Close::new(bus::close::INTERNAL, "live frames lost");
            out.close(&close).await;
            Some(LiveMessage::Close(close))
        }
    }
}

/// `conversation_config_override.conversation.text_only` (the documented
/// path, as the JS SDK sends it), or `conversation_config_override.text_only`
/// (as the Python SDK 2.x sends it without an audio interface).
fn is_text_only(init: &ConversationInitiationClientData) -> bool {
    serde_json::to_value(init).ok().is_some_and(|v| {
        [
            "/conversation_config_override/conversation/text_only",
            "/conversation_config_override/text_only",
        ]
        .iter()
        .any(|path| v.pointer(path).and_then(serde_json::Value::as_bool) == Some(true))
    })
}

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
