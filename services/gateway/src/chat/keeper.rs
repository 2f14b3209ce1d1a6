//! Holds one chat open from the gateway copy that opened it: sends the
//! session's heartbeats, watches the session's, and closes the chat with
//! 1000 once no message has passed either way for the idle time (pings
//! aside) (1001 when
//! the gateway stops, 1006 when the session went silent). It sees the
//! messages other gateway copies send, since they share `live.<id>.in`.

use bus::close::{ABNORMAL, GOING_AWAY, NORMAL};
use bus::live::HEARTBEAT_INTERVAL;
use bus::{Close, LiveMessage, LiveSender};
use events::ConversationId;
use events::command::subject;
use futures::StreamExt;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use crate::chat::ChatConfig;
use crate::live::Live;
use crate::live::limit::LiveCall;

/// Runs until the chat is over; `_call` is the user's slot, freed then.
pub async fn keep(
    live: Live,
    config: ChatConfig,
    id: ConversationId,
    _call: LiveCall,
    inbound: LiveSender,
) {
    let span = tracing::info_span!("chat", conversation_id = %id);
    run(live, config, id, inbound).instrument(span).await;
}

async fn run(live: Live, config: ChatConfig, id: ConversationId, inbound: LiveSender) {
    let (outbound, sent) = match (
        live.nats.subscribe(subject::live_out(id)).await,
        live.nats.subscribe(subject::live_in(id)).await,
    ) {
        (Ok(outbound), Ok(sent)) => (outbound, sent),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "cannot follow the chat; closing it");
            inbound
                .close(&Close::new(ABNORMAL, "gateway cannot follow the chat"))
                .await;
            return;
        }
    };
    let (mut outbound, mut sent) = (outbound, sent);
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut session_heard = Instant::now();
    let mut active = Instant::now();
    let close = loop {
        let idle = tokio::time::sleep_until(active + config.idle);
        let silent = tokio::time::sleep_until(session_heard + live.heartbeat_timeout);
        tokio::select! {
            message = outbound.next() => {
                let Some(message) = message else {
                    break Some(Close::new(ABNORMAL, "gateway lost the chat"));
                };
                session_heard = Instant::now();
                match LiveMessage::from_message(&message) {
                    LiveMessage::Heartbeat => {}
                    LiveMessage::Frame(frame) if !is_ping(&frame) => active = Instant::now(),
                    LiveMessage::Frame(_) => {}
                    LiveMessage::Close(close) => {
                        tracing::info!(code = close.code, reason = %close.reason, "the session ended the chat");
                        break None;
                    }
                }
            }
            message = sent.next() => match message.as_ref().map(LiveMessage::from_message) {
                Some(LiveMessage::Frame(_)) => active = Instant::now(),
                // Another copy (or this one) ended it.
                Some(LiveMessage::Close(_)) => break None,
                Some(LiveMessage::Heartbeat) => {}
                None => break Some(Close::new(ABNORMAL, "gateway lost the chat")),
            },
            _ = heartbeat.tick() => {
                if let Err(error) = inbound.heartbeat().await {
                    tracing::warn!(%error, "could not send a heartbeat");
                }
            }
            () = idle => break Some(Close::new(NORMAL, "chat idle")),
            () = silent => break Some(Close::new(ABNORMAL, "session heartbeats stopped")),
            () = live.shutdown.cancelled() => break Some(Close::new(GOING_AWAY, "gateway shutting down")),
        }
    };
    if let Some(close) = close {
        tracing::info!(code = close.code, reason = %close.reason, "closing the chat");
        inbound.close(&close).await;
    }
}

/// ElevenLabs' keep-alive `ping`s flow all through a quiet chat: they are
/// not activity.
fn is_ping(frame: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(frame)
        .ok()
        .is_some_and(|event| event.get("type").and_then(|t| t.as_str()) == Some("ping"))
}
