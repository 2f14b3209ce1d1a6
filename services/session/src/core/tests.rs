//! Given a call, when an input arrives, then these frames, events and
//! effects: the live call's rules with no I/O.

use bus::Close;
use bus::live::LiveMessage;
use elevenlabs::{CloseCode, ConversationEnd, Initiator, ServerEvent};
use events::ConversationEvent;
use events::conversation::{EndReason, FailureReason};
use serde_json::json;

use super::*;

const LIMITS: Limits = Limits {
    events_per_call: 10,
    heartbeat_timeout_ms: 5_000,
    extend_ahead_ms: 15_000,
    extend_grace_ms: 30_000,
};

/// A call that has recorded requested and started.
fn call(covers_ms: Option<u64>) -> LiveCall {
    let facts = Facts {
        events: 2,
        ..Facts::default()
    };
    LiveCall::new(LIMITS, facts, covers_ms)
}

fn frame(value: serde_json::Value) -> Input<'static> {
    Input::Client(LiveMessage::Frame(value.to_string().into()))
}

/// The upstream closed with 1000 after our close.
fn normal_end() -> Result<ConversationEnd, elevenlabs::ConversationError> {
    Ok(ConversationEnd {
        initiator: Initiator::Client,
        code: Some(CloseCode::from_u16(1000)),
        reason: String::new(),
        last_error: None,
        agent_ended_call: false,
    })
}

/// The terminal event once the upstream is done.
fn end_of(call: &mut LiveCall, at_ms: u64) -> (ConversationEvent, Vec<Effect>) {
    let out = call.step(Input::UpstreamEnded(&normal_end()), at_ms);
    (
        out.events.last().cloned().expect("a terminal event"),
        out.effects,
    )
}

#[test]
fn client_frames_go_upstream_and_pongs_stay_here() {
    let mut call = call(None);
    let out = call.step(frame(json!({"type": "user_message", "text": "hi"})), 10);
    assert_eq!(out.to_upstream.len(), 1);
    let out = call.step(frame(json!({"type": "pong", "event_id": 1})), 11);
    assert_eq!(out, Output::default());
}

#[test]
fn a_silent_gateway_ends_the_call_as_disconnected() {
    let mut call = call(None);
    assert_eq!(
        call.step(Input::Client(LiveMessage::Heartbeat), 4_000),
        Output::default()
    );
    assert_eq!(
        call.step(Input::Tick, 9_000),
        Output::default(),
        "heard at 4 s"
    );
    let out = call.step(Input::Tick, 9_001);
    assert_eq!(out.effects, [Effect::CloseUpstream]);
    let (event, effects) = end_of(&mut call, 9_100);
    assert!(
        matches!(&event, ConversationEvent::Ended(e) if e.reason == EndReason::ClientDisconnected),
        "{event:?}"
    );
    assert!(effects.is_empty(), "nobody to close: the client is gone");
}

#[test]
fn the_gateways_limit_close_is_recorded_as_limit_exceeded() {
    let mut call = call(None);
    let close = Close::new(
        1008,
        "rate_limit_exceeded: more than 5 user messages per second",
    );
    let out = call.step(Input::Client(LiveMessage::Close(close)), 100);
    assert_eq!(out.effects, [Effect::CloseUpstream]);
    let (event, _) = end_of(&mut call, 120);
    match event {
        ConversationEvent::Failed(f) => {
            assert_eq!(f.reason, FailureReason::LimitExceeded);
            assert!(
                f.message.starts_with("rate_limit_exceeded"),
                "{}",
                f.message
            );
        }
        other => panic!("failed expected, got {other:?}"),
    }
    let invalid = Close::new(1008, "invalid_message: frame is not a JSON object");
    let mut call = self::call(None);
    call.step(Input::Client(LiveMessage::Close(invalid)), 1);
    assert!(
        matches!(end_of(&mut call, 2).0, ConversationEvent::Failed(f) if f.reason == FailureReason::ProtocolError)
    );
}

#[test]
fn a_call_stops_at_its_event_budget_keeping_room_for_its_end() {
    let mut call = call(None);
    let answer = ServerEvent::from_value(
        json!({"type": "agent_response", "agent_response_event": {"agent_response": "x", "event_id": 1}}),
    )
    .expect("event");
    let mut recorded = 2;
    let mut closed = false;
    for at in 0..100 {
        let out = call.step(Input::Upstream(&answer), at);
        assert_eq!(out.to_client.len(), 1, "frames still pass");
        recorded += out.events.len();
        closed |= out.effects.contains(&Effect::CloseUpstream);
    }
    assert!(closed);
    let (event, effects) = end_of(&mut call, 200);
    recorded += 1;
    assert!(
        matches!(event, ConversationEvent::Failed(f) if f.reason == FailureReason::LimitExceeded)
    );
    assert!(matches!(&effects[..], [Effect::CloseClient(c)] if c.code == 1008));
    assert!(
        recorded <= 10 - 2,
        "cost and analysis still fit: {recorded}"
    );
}

#[test]
fn the_hold_is_extended_ahead_of_time_and_a_refusal_ends_the_call() {
    let mut call = call(Some(60_000));
    assert_eq!(
        call.step(Input::Client(LiveMessage::Heartbeat), 44_000),
        Output::default()
    );
    assert_eq!(call.step(Input::Tick, 44_999).effects, []);
    assert_eq!(
        call.step(Input::Tick, 45_000).effects,
        [Effect::ExtendHold { period: 1 }]
    );
    assert_eq!(
        call.step(Input::Tick, 45_500).effects,
        [],
        "one ask at a time"
    );
    call.step(
        Input::HoldExtended {
            period: 1,
            covers_ms: 120_000,
        },
        45_600,
    );
    call.step(Input::Client(LiveMessage::Heartbeat), 104_000);
    assert_eq!(
        call.step(Input::Tick, 105_000).effects,
        [Effect::ExtendHold { period: 2 }]
    );
    let out = call.step(Input::ExtensionRefused { period: 2 }, 105_100);
    assert_eq!(out.effects, [Effect::CloseUpstream]);
    assert!(out.to_client[0].contains("credits_exhausted"));
    let (event, effects) = end_of(&mut call, 105_200);
    assert!(
        matches!(event, ConversationEvent::Ended(e) if e.reason == EndReason::CreditsExhausted)
    );
    assert!(
        matches!(&effects[..], [Effect::CloseClient(c)] if c.code == 1008 && c.reason.starts_with("credits_exhausted"))
    );
}

#[test]
fn a_log_that_fails_ends_the_call_once() {
    let mut call = call(None);
    assert_eq!(
        call.step(Input::LogFailed, 5).effects,
        [Effect::CloseUpstream]
    );
    assert_eq!(call.step(Input::LogFailed, 6).effects, []);
    let (event, effects) = end_of(&mut call, 7);
    assert!(
        matches!(event, ConversationEvent::Failed(f) if f.reason == FailureReason::LogUnavailable)
    );
    assert!(matches!(&effects[..], [Effect::CloseClient(c)] if c.code == 1011));
    assert_eq!(
        call.step(Input::UpstreamEnded(&normal_end()), 8),
        Output::default()
    );
}
