//! The rules of one live call, pure: the state of the call plus one input
//! (a client message, an upstream event, the upstream's end, a tick, the
//! ledger's answer, the log's failure) gives the frames to send each way,
//! the events to record and the effects to carry out. `relay` is the I/O
//! shell around it; nothing here waits, reads a clock or touches a socket.
//! Times are milliseconds since the call started, passed in.

use bus::Close;
use bus::close::{ABNORMAL, MESSAGE_TOO_BIG, POLICY, UNSUPPORTED_DATA};
use bus::live::LiveMessage;
use elevenlabs::{ClientMessage, ConversationEnd, ConversationError, ServerEvent};
use events::ConversationEvent;
use events::conversation::{EndReason, Ended, Failed, FailureReason};
use serde_json::json;

use crate::ending::{StoppedBy, conclude};
use crate::fold::Facts;
use crate::turns::Turns;

/// Events kept back from a call's budget for its end, cost and analysis.
const END_EVENTS: u32 = 3;

/// A call's limits (from the service's configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events one call may write, its end included.
    pub events_per_call: u32,
    /// Silence from the gateway after which the client is taken for gone.
    pub heartbeat_timeout_ms: u64,
    /// How long before the hold runs out its extension is asked for.
    pub extend_ahead_ms: u64,
    /// How long past the covered time a call may run while the ledger
    /// does not answer.
    pub extend_grace_ms: u64,
}

/// One thing that happened to the call.
#[derive(Debug)]
pub enum Input<'a> {
    Client(LiveMessage),
    Upstream(&'a ServerEvent),
    /// The upstream socket is done: how it ended.
    UpstreamEnded(&'a Result<ConversationEnd, ConversationError>),
    /// Time passed (the shell ticks once per heartbeat interval).
    Tick,
    /// The ledger extended the hold up to this much call time.
    HoldExtended {
        period: u32,
        covers_ms: u64,
    },
    /// The ledger refused the extension: the user cannot cover it.
    ExtensionRefused {
        period: u32,
    },
    /// The ledger did not answer the extension.
    ExtensionUnanswered {
        period: u32,
    },
    /// The log stayed unavailable past its bound, or cannot keep up.
    LogFailed,
    Shutdown,
}

/// Something for the shell to do besides sending frames and recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// End the upstream conversation (close 1000 from our side).
    CloseUpstream,
    /// Ask the ledger to extend the hold for this period.
    ExtendHold { period: u32 },
    /// Close the client's side with this close (the last output of a call).
    CloseClient(Close),
}

/// What one input makes the shell do, in this order: frames to the client,
/// messages upstream, events to record, effects.
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    pub to_client: Vec<String>,
    pub to_upstream: Vec<ClientMessage>,
    pub events: Vec<ConversationEvent>,
    pub effects: Vec<Effect>,
}

/// Why the call stops, once something decided it: kept until the upstream
/// is done, then told in the terminal event.
#[derive(Clone, Debug, PartialEq)]
enum Stop {
    Client(StoppedBy),
    /// Our own decision, with the event that records it and the client's close.
    Decided(ConversationEvent, Close),
}

/// The state of one live call.
#[derive(Debug)]
pub struct LiveCall {
    limits: Limits,
    facts: Facts,
    turns: Turns,
    client_heard_ms: u64,
    /// Call time the hold covers; `None`: the whole call.
    covers_ms: Option<u64>,
    /// The extension asked for and not answered yet.
    extending: Option<u32>,
    next_period: u32,
    stop: Option<Stop>,
}

impl LiveCall {
    /// A call that has recorded `facts` so far (requested, started).
    pub fn new(limits: Limits, facts: Facts, covers_ms: Option<u64>) -> Self {
        Self {
            limits,
            facts,
            turns: Turns::default(),
            client_heard_ms: 0,
            covers_ms,
            extending: None,
            next_period: 1,
            stop: None,
        }
    }

    /// True once the client's side is done: nothing more is read from it.
    pub fn client_done(&self) -> bool {
        self.stop.is_some()
    }

    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// Applies one input at `now_ms` into the call.
    pub fn step(&mut self, input: Input<'_>, now_ms: u64) -> Output {
        let mut out = Output::default();
        match input {
            Input::Client(message) => self.on_client(message, now_ms, &mut out),
            Input::Upstream(event) => {
                out.to_client.push(event.to_json());
                if let Some(domain) = self.turns.on_event(event, now_ms) {
                    self.record(domain, now_ms, &mut out);
                }
            }
            Input::UpstreamEnded(end) => self.on_upstream_end(end, now_ms, &mut out),
            Input::Tick => self.on_tick(now_ms, &mut out),
            Input::HoldExtended { period, covers_ms } => {
                if self.extending == Some(period) {
                    self.extending = None;
                    self.covers_ms = Some(covers_ms);
                }
            }
            Input::ExtensionRefused { period } => {
                if self.extending == Some(period) {
                    self.stop_credits(now_ms, "the balance cannot cover the next period", &mut out);
                }
            }
            Input::ExtensionUnanswered { period } => {
                // Asked again on a later tick, within the grace.
                if self.extending == Some(period) {
                    self.extending = None;
                }
            }
            Input::LogFailed => self.decide_stop(
                failed(
                    FailureReason::LogUnavailable,
                    "the event log is unavailable",
                    now_ms,
                ),
                Close::new(bus::close::INTERNAL, "event log unavailable"),
                &mut out,
            ),
            Input::Shutdown => self.client_stop(StoppedBy::Shutdown, &mut out),
        }
        out
    }

    fn on_client(&mut self, message: LiveMessage, now_ms: u64, out: &mut Output) {
        if self.stop.is_some() {
            return;
        }
        self.client_heard_ms = now_ms;
        let frame = match message {
            LiveMessage::Heartbeat => return,
            LiveMessage::Close(close) => return self.client_stop(stopped_by(&close), out),
            LiveMessage::Frame(frame) => frame,
        };
        match std::str::from_utf8(&frame).map(ClientMessage::parse) {
            // The upstream connection answers pings itself; the client's echo would be a second pong.
            Ok(Ok(ClientMessage::Pong(_))) => {}
            Ok(Ok(message)) => out.to_upstream.push(message),
            Ok(Err(_)) | Err(_) => self.client_stop(StoppedBy::ClientProtocolError, out),
        }
    }

    fn on_tick(&mut self, now_ms: u64, out: &mut Output) {
        if self.stop.is_some() {
            return;
        }
        if now_ms.saturating_sub(self.client_heard_ms) > self.limits.heartbeat_timeout_ms {
            return self.client_stop(StoppedBy::Client(ABNORMAL), out);
        }
        let Some(covers_ms) = self.covers_ms else {
            return;
        };
        if now_ms > covers_ms.saturating_add(self.limits.extend_grace_ms) {
            return self.stop_credits(now_ms, "the ledger did not extend the hold", out);
        }
        if self.extending.is_none()
            && now_ms.saturating_add(self.limits.extend_ahead_ms) >= covers_ms
        {
            let period = self.next_period;
            self.next_period += 1;
            self.extending = Some(period);
            out.effects.push(Effect::ExtendHold { period });
        }
    }

    fn on_upstream_end(
        &mut self,
        end: &Result<ConversationEnd, ConversationError>,
        now_ms: u64,
        out: &mut Output,
    ) {
        if self.facts.terminal {
            return;
        }
        let (event, close) = match self.stop.take() {
            Some(Stop::Decided(event, close)) => (event, Some(close)),
            Some(Stop::Client(by)) => conclude(by, end, now_ms),
            None => conclude(StoppedBy::Upstream, end, now_ms),
        };
        self.record_always(event, out);
        if let Some(close) = close {
            out.effects.push(Effect::CloseClient(close));
        }
    }

    /// Records a call event within the budget; at the budget the call ends.
    fn record(&mut self, event: ConversationEvent, now_ms: u64, out: &mut Output) {
        let budget = self.limits.events_per_call.saturating_sub(END_EVENTS);
        if self.facts.events >= budget {
            let message = format!(
                "the call reached its limit of {} events",
                self.limits.events_per_call
            );
            return self.decide_stop(
                failed(FailureReason::LimitExceeded, &message, now_ms),
                Close::new(POLICY, format!("message_limit_exceeded: {message}")),
                out,
            );
        }
        self.record_always(event, out);
    }

    fn record_always(&mut self, event: ConversationEvent, out: &mut Output) {
        self.facts.record(&event);
        out.events.push(event);
    }

    fn stop_credits(&mut self, now_ms: u64, why: &str, out: &mut Output) {
        let event = ConversationEvent::Ended(Ended {
            reason: EndReason::CreditsExhausted,
            duration_ms: now_ms,
            close_code: Some(POLICY),
        });
        out.to_client
            .push(error_event(POLICY, "credits_exhausted", why));
        self.decide_stop(
            event,
            Close::new(POLICY, format!("credits_exhausted: {why}")),
            out,
        );
    }

    /// We end the call: the upstream is closed, the terminal event and the
    /// client's close wait for the upstream to be done.
    fn decide_stop(&mut self, event: ConversationEvent, close: Close, out: &mut Output) {
        if self.stop.is_none() {
            self.stop = Some(Stop::Decided(event, close));
            out.effects.push(Effect::CloseUpstream);
        }
    }

    /// The client's side ended (or we are shutting down).
    fn client_stop(&mut self, by: StoppedBy, out: &mut Output) {
        if self.stop.is_none() {
            self.stop = Some(Stop::Client(by));
            out.effects.push(Effect::CloseUpstream);
        }
    }
}

/// What a close on `live.<id>.in` means. The gateway closes with 1009, 1008
/// or 1003 when the client broke the call's bounds (the reason starts with
/// the `error_type`); any other code is the client's own close.
pub(crate) fn stopped_by(close: &Close) -> StoppedBy {
    let limit = [
        "message_too_big",
        "rate_limit_exceeded",
        "message_limit_exceeded",
    ]
    .iter()
    .any(|kind| close.reason.starts_with(kind));
    match close.code {
        MESSAGE_TOO_BIG | POLICY if limit => StoppedBy::ClientLimit(close.reason.clone()),
        POLICY | UNSUPPORTED_DATA if close.reason.starts_with("invalid_message") => {
            StoppedBy::ClientInvalid(close.reason.clone())
        }
        code => StoppedBy::Client(code),
    }
}

fn failed(reason: FailureReason, message: &str, duration_ms: u64) -> ConversationEvent {
    ConversationEvent::Failed(Failed {
        reason,
        message: message.to_owned(),
        duration_ms,
    })
}

/// An ElevenLabs-style `error` event, sent just before a close.
fn error_event(code: u16, error_type: &str, message: &str) -> String {
    json!({"type": "error", "error_event": {"code": code, "error_type": error_type, "message": message}})
        .to_string()
}

#[cfg(test)]
mod tests;
