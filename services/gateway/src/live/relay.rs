//! The relay of one started conversation: client text frames to
//! `subject_in`, `subject_out` messages to the client, closes both ways,
//! heartbeats both ways (`bus::live`).
//!
//! Frames are numbered both ways, and what NATS dropped is sent again
//! (`bus::live`); a call whose lost frames are no longer kept ends 1011.
//!
//! Every client frame passes the call's [`Guard`] first; a violation gets
//! an `error` event and its close, and the session hears the same close.
//! If the session sends nothing (not even a heartbeat) for the heartbeat
//! timeout, its copy is gone: the client is closed with 1011.
//!
//! Back-pressure: the client is read only after its previous frame was
//! handed to NATS (whose outgoing buffer is bounded), and NATS delivers into
//! a subscription buffer of `RELAY_BUFFER` messages drained only as fast as
//! the client socket takes them. Core NATS has no flow control, so a client
//! that falls more than that far behind loses frames (logged as a slow
//! consumer, see `app`) rather than growing memory.

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use bus::close::{ABNORMAL, GOING_AWAY, INTERNAL};
use bus::live::HEARTBEAT_INTERVAL;
use bus::{Close, LiveMessage, LiveSender};
use elevenlabs::ServerEvent;
use events::command::SessionStarted;
use futures::StreamExt;
use tokio::time::{Instant, MissedTickBehavior};

use crate::conversation_ref::ConversationRef;
use crate::live::bounds::{Guard, Violation};
use crate::live::start::UNAVAILABLE_REASON;
use crate::live::{Live, close, finish_close, refuse};
use crate::metrics::{LiveConversation, relayed};

/// The close reason when frames were lost for good.
const LOST_REASON: &str = "live frames lost";

/// Who ended the conversation, for the log.
#[derive(Debug)]
enum Ended {
    Client,
    ClientLost,
    ClientViolation,
    Session,
    SessionLost,
    Gateway,
}

pub async fn relay(mut socket: WebSocket, live: &Live, started: &SessionStarted) {
    let inbound = LiveSender::new(live.nats.clone(), started.subject_in.clone());
    let unavailable = Close::new(INTERNAL, UNAVAILABLE_REASON);
    let mut outbound = match live.nats.subscribe(started.subject_out.clone()).await {
        Ok(subscriber) => subscriber,
        Err(error) => {
            tracing::warn!(%error, "cannot subscribe to the conversation");
            inbound.close(&unavailable).await;
            return refuse(socket, unavailable).await;
        }
    };
    let _open = LiveConversation::open();
    let mut guard = Guard::new(live.bounds);
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut session_heard = Instant::now();
    let (mut frames_in, mut frames_out) = (0u64, 0u64);
    let (ended, close) = loop {
        let session_silent = tokio::time::sleep_until(session_heard + live.heartbeat_timeout);
        tokio::select! {
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let received = std::time::Instant::now();
                    if let Err(violation) = guard.check(text.as_str()) {
                        break violated(socket, &inbound, &violation).await;
                    }
                    if inbound.frame(Message::Text(text).into_data()).await.is_err() {
                        refuse(socket, unavailable.clone()).await;
                        break (Ended::Gateway, unavailable);
                    }
                    relayed("to_session", received);
                    frames_in += 1;
                }
                Some(Ok(Message::Binary(_))) => {
                    break violated(socket, &inbound, &Violation::Binary).await;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    let close = close::from_client(frame);
                    inbound.close(&close).await;
                    // The reply to the client's close goes out on the next read.
                    finish_close(&mut socket).await;
                    break (Ended::Client, close);
                }
                Some(Err(error)) if is_too_large(&error) => {
                    let violation = Violation::TooLarge { limit: live.bounds.max_frame_bytes };
                    break violated(socket, &inbound, &violation).await;
                }
                Some(Err(_)) | None => {
                    let close = Close::new(ABNORMAL, "client connection lost");
                    inbound.close(&close).await;
                    break (Ended::ClientLost, close);
                }
            },
            message = outbound.next() => {
                let Some(message) = message else {
                    refuse(socket, unavailable.clone()).await;
                    break (Ended::Gateway, unavailable);
                };
                let received = std::time::Instant::now();
                session_heard = Instant::now();
                let payload = match inbound.accept(&message).await {
                    Ok(None | Some(LiveMessage::Heartbeat)) => continue,
                    Ok(Some(LiveMessage::Close(close))) => {
                        refuse(socket, close.clone()).await;
                        break (Ended::Session, close);
                    }
                    Ok(Some(LiveMessage::Frame(payload))) => payload,
                    Err(lost) => {
                        tracing::warn!(%lost, "the session asked for frames no longer kept");
                        let close = Close::new(INTERNAL, LOST_REASON);
                        inbound.close(&close).await;
                        refuse(socket, close.clone()).await;
                        break (Ended::Gateway, close);
                    }
                };
                let Ok(text) = Utf8Bytes::try_from(payload) else {
                    tracing::warn!("dropped a session frame that is not UTF-8");
                    continue;
                };
                if frames_out == 0 {
                    remember_elevenlabs_id(live, started, text.as_str());
                }
                if socket.send(Message::Text(text)).await.is_err() {
                    let close = Close::new(ABNORMAL, "client connection lost");
                    inbound.close(&close).await;
                    break (Ended::ClientLost, close);
                }
                relayed("to_client", received);
                frames_out += 1;
            },
            _ = heartbeat.tick() => {
                if let Err(error) = inbound.heartbeat().await {
                    tracing::warn!(%error, "could not send a heartbeat");
                }
            }
            () = session_silent => {
                // Tell a session that is merely slow, too: it ends the upstream.
                inbound.close(&Close::new(ABNORMAL, "session heartbeats stopped")).await;
                let close = Close::new(INTERNAL, "session lost");
                refuse(socket, close.clone()).await;
                break (Ended::SessionLost, close);
            }
            () = live.shutdown.cancelled() => {
                let close = Close::new(GOING_AWAY, "gateway shutting down");
                inbound.close(&close).await;
                refuse(socket, close.clone()).await;
                break (Ended::Gateway, close);
            }
        }
    };
    tracing::info!(
        by = ?ended,
        code = close.code,
        reason = %close.reason,
        frames_in,
        frames_out,
        "conversation relay ended"
    );
}

/// The session's first frame is ElevenLabs' `conversation_initiation_metadata`:
/// its id is recorded as this call's, for what arrives under it later.
fn remember_elevenlabs_id(live: &Live, started: &SessionStarted, first: &str) {
    let Ok(ServerEvent::ConversationInitiationMetadata(metadata)) = ServerEvent::parse(first)
    else {
        return;
    };
    match ConversationRef::parse(&metadata.conversation_id) {
        Some(ConversationRef::ElevenLabs(id)) => {
            live.elevenlabs_ids.remember(id, started.conversation_id);
        }
        _ => {
            tracing::warn!(elevenlabs_id = %metadata.conversation_id, "ElevenLabs sent an id of an unknown form")
        }
    }
}

/// A frame broke the call's bounds: the client gets the `error` event and
/// the close, the session the same close.
async fn violated(
    mut socket: WebSocket,
    inbound: &LiveSender,
    violation: &Violation,
) -> (Ended, Close) {
    let close = violation.close();
    tracing::info!(%violation, code = close.code, "client broke the call's bounds");
    inbound.close(&close).await;
    // A client that cannot take the event still gets the close.
    let _ = socket
        .send(Message::Text(violation.error_event().into()))
        .await;
    refuse(socket, close.clone()).await;
    (Ended::ClientViolation, close)
}

/// The socket refused a frame larger than its configured maximum.
fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(tungstenite::Error::Capacity(_)) = e.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = e.source();
    }
    false
}
