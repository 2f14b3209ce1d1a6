//! Round trips of every event type through the envelope's JSON, and the
//! refusals and upcasts of decoding.

use events::conversation::*;
use events::envelope::RawEnvelope;
use events::ledger::*;
use events::{
    AccountId, ConversationEvent, ConversationId, CorrelationId, Credits, DecodeError, DomainEvent,
    Envelope, EnvelopeMeta, EventId, LedgerEvent, Posting, SystemAccount, UserId,
};
use serde_json::{Value, json};

fn meta(aggregate: impl Into<String>) -> EnvelopeMeta {
    EnvelopeMeta::new(aggregate, CorrelationId::new())
        .for_user("65a1b2c3d4e5f60718293a4b".parse().expect("user id"))
        .with_agent("agent_demo".parse().expect("agent id"))
}

fn round_trip<E: DomainEvent + PartialEq + std::fmt::Debug + Clone>(event: E) -> Value {
    let envelope = Envelope::new(meta(ConversationId::new().to_string()), event);
    let bytes = envelope.to_json();
    let back: Envelope<E> = Envelope::from_json(&bytes).expect("decodes what it encoded");
    assert_eq!(back, envelope);
    serde_json::from_slice(&bytes).expect("json")
}

fn all_conversation_events() -> Vec<ConversationEvent> {
    use ConversationEvent as C;
    vec![
        C::Requested(Requested {
            mode: ConversationMode::Live,
            owner: Some("session-1".into()),
        }),
        C::Started(Started {
            elevenlabs_conversation_id: "conv_123".into(),
            user_input_audio_format: Some("pcm_16000".into()),
            agent_output_audio_format: Some("pcm_16000".into()),
            text_only: false,
        }),
        C::UserMessage(UserMessage {
            text: "hello".into(),
            time_in_call_ms: 1200,
        }),
        C::AgentMessage(AgentMessage {
            text: "hi there".into(),
            time_in_call_ms: 1900,
            latency_ms: Some(700),
            event_id: Some(2),
        }),
        C::AgentMessageCorrected(AgentMessageCorrected {
            original: "a long answer".into(),
            corrected: "a long".into(),
            event_id: Some(2),
            time_in_call_ms: 2500,
        }),
        C::Interrupted(Interrupted {
            event_id: Some(2),
            time_in_call_ms: 2400,
        }),
        C::ToolCalled(ToolCalled {
            tool_call_id: "tc_1".into(),
            tool_name: "lookup_order".into(),
            parameters: json!({"order": 42}),
            time_in_call_ms: 3000,
        }),
        C::Ended(Ended {
            reason: EndReason::AgentEnded,
            duration_ms: 61_500,
            close_code: Some(1000),
        }),
        C::Failed(Failed {
            reason: FailureReason::SessionLost,
            message: "owner restarted".into(),
            duration_ms: 4000,
        }),
        C::TranscriptSubmitted(TranscriptSubmitted {
            elevenlabs_conversation_id: Some("conv_9".into()),
            messages: vec![TranscriptLine {
                role: Role::User,
                text: "hey".into(),
                time_in_call_ms: 0,
            }],
            duration_ms: 9000,
            metrics: Some(Box::new(json!({"messageCount": 1}))),
            metadata: None,
            status: Some("done".into()),
        }),
        C::CostReported(CostReported {
            elevenlabs_conversation_id: "conv_123".into(),
            credits: Credits::new(412),
            call_duration_ms: 61_000,
            charging: Some(json!({"tier": "pro"})),
        }),
        C::AnalysisReported(AnalysisReported {
            call_successful: Some("success".into()),
            summary: Some("The user said hello.".into()),
            termination_reason: Some("end_call tool".into()),
            analysis: json!({"call_successful": "success"}),
        }),
    ]
}

fn all_ledger_events() -> Vec<LedgerEvent> {
    let user = AccountId::User(UserId::new());
    let holds = AccountId::System(SystemAccount::Holds);
    let usage = AccountId::System(SystemAccount::Usage);
    let grants = AccountId::System(SystemAccount::Grants);
    let adjustments = AccountId::System(SystemAccount::Adjustments);
    let conv = ConversationId::new();
    let c = Credits::new;
    vec![
        LedgerEvent::AccountOpened(AccountOpened { account: user }),
        LedgerEvent::CreditsGranted(CreditsGranted {
            credits: c(10_000),
            reason: Some("demo".into()),
            postings: Posting::transfer(grants, user, c(10_000)).to_vec(),
            expires_at: Some(chrono::Utc::now()),
        }),
        LedgerEvent::CreditsExpired(CreditsExpired {
            grant_id: EventId::new(),
            credits: c(50),
            postings: Posting::transfer(user, grants, c(50)).to_vec(),
        }),
        LedgerEvent::CallPricedPerMessage(CallPricedPerMessage {
            conversation_id: conv,
            credits_per_message: 14,
        }),
        LedgerEvent::CreditsCorrected(CreditsCorrected {
            credits: c(-5),
            reason: "double-booked test call".into(),
            actor: "finance@example.com".into(),
            postings: Posting::transfer(user, adjustments, c(5)).to_vec(),
        }),
        LedgerEvent::CreditsHeld(CreditsHeld {
            conversation_id: conv,
            credits: c(500),
            postings: Posting::transfer(user, holds, c(500)).to_vec(),
            period: 1,
            covers_ms: Some(75_000),
            credits_per_minute: Some(400),
        }),
        LedgerEvent::HoldCaptured(HoldCaptured {
            conversation_id: conv,
            credits: c(300),
            postings: Posting::transfer(holds, usage, c(300)).to_vec(),
        }),
        LedgerEvent::HoldReleased(HoldReleased {
            conversation_id: conv,
            credits: c(200),
            postings: Posting::transfer(holds, user, c(200)).to_vec(),
            reason: ReleaseReason::Expired,
        }),
        LedgerEvent::UsageCharged(UsageCharged {
            conversation_id: conv,
            credits: c(300),
            duration_ms: 60_000,
            postings: Posting::transfer(user, usage, c(300)).to_vec(),
        }),
        LedgerEvent::ChargeAdjusted(ChargeAdjusted {
            conversation_id: conv,
            estimated: c(300),
            actual: c(320),
            postings: Posting::transfer(user, adjustments, c(20)).to_vec(),
            detail: AdjustmentDetail {
                corrects: Some(EventId::new()),
                reported_duration_ms: Some(60_000),
                call_credits: Some(c(300)),
                llm_credits: Some(c(20)),
                flags: vec![
                    ChargeFlag::ExceedsHold {
                        held: c(300),
                        excess: c(20),
                    },
                    ChargeFlag::AboveRateCard {
                        reported_per_minute: c(320),
                        rate_per_minute: 100,
                    },
                    ChargeFlag::UnknownConversation,
                ],
            },
        }),
    ]
}

#[test]
fn every_conversation_event_round_trips() {
    let events = all_conversation_events();
    let mut seen: Vec<&str> = events.iter().map(|e| e.event_type()).collect();
    seen.sort_unstable();
    let mut known: Vec<&str> = ConversationEvent::types().iter().map(|(t, _)| *t).collect();
    known.sort_unstable();
    assert_eq!(seen, known, "the test covers every conversation type");
    for event in events {
        let json = round_trip(event.clone());
        assert_eq!(json["type"], event.event_type());
        assert!(json["data"].is_object());
    }
}

#[test]
fn every_ledger_event_round_trips_balanced() {
    let events = all_ledger_events();
    assert_eq!(events.len(), LedgerEvent::types().len());
    for event in events {
        assert!(event.is_balanced(), "{event:?}");
        round_trip(event);
    }
}

#[test]
fn envelope_has_the_design_fields() {
    let event = ConversationEvent::UserMessage(UserMessage {
        text: "x".into(),
        time_in_call_ms: 5,
    });
    let json = round_trip(event);
    for field in [
        "id",
        "type",
        "schema",
        "aggregate_id",
        "occurred_at",
        "correlation_id",
        "causation_id",
        "user_id",
        "agent_id",
        "data",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    let id: uuid::Uuid = json["id"].as_str().expect("id text").parse().expect("uuid");
    assert_eq!(id.get_version_num(), 7);
    let at = json["occurred_at"].as_str().expect("time text");
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    assert!(at.ends_with('Z'), "UTC: {at}");
}

fn raw(event_type: &str, schema: u32, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "0190f1f0-0000-7000-8000-000000000001",
        "type": event_type,
        "schema": schema,
        "aggregate_id": "65a1b2c3d4e5f60718293a4b",
        "occurred_at": "2026-11-25T10:00:00.000Z",
        "correlation_id": "0190f1f0-0000-7000-8000-000000000002",
        "causation_id": null,
        "user_id": "65a1b2c3d4e5f60718293a4b",
        "agent_id": "agent_x",
        "data": data,
    }))
    .expect("json")
}

#[test]
fn unknown_type_is_a_typed_error_naming_it() {
    let err =
        Envelope::<ConversationEvent>::from_json(&raw("conversation.teleported", 1, json!({})))
            .expect_err("unknown type");
    match err {
        DecodeError::UnknownType { event_type, schema } => {
            assert_eq!(
                (event_type.as_str(), schema),
                ("conversation.teleported", 1)
            );
        }
        other => panic!("wrong error: {other:?}"),
    }
    // A ledger type is unknown to the conversation family, and vice versa.
    assert!(matches!(
        Envelope::<LedgerEvent>::from_json(&raw("conversation.started", 1, json!({}))),
        Err(DecodeError::UnknownType { .. })
    ));
}

#[test]
fn newer_schema_is_a_typed_error_naming_both_versions() {
    let err = Envelope::<ConversationEvent>::from_json(&raw(
        "conversation.user_message",
        7,
        json!({"text": "x", "time_in_call_ms": 1}),
    ))
    .expect_err("newer schema");
    let text = err.to_string();
    assert!(matches!(
        err,
        DecodeError::NewerSchema {
            schema: 7,
            known: 1,
            ..
        }
    ));
    assert!(
        text.contains("conversation.user_message") && text.contains('7'),
        "{text}"
    );
}

#[test]
fn ended_v1_in_seconds_is_upcast_to_milliseconds() {
    let bytes = raw(
        "conversation.ended",
        1,
        json!({"reason": "agent_ended", "duration_secs": 61}),
    );
    let envelope = Envelope::<ConversationEvent>::from_json(&bytes).expect("upcast");
    assert_eq!(
        envelope.event,
        ConversationEvent::Ended(Ended {
            reason: EndReason::AgentEnded,
            duration_ms: 61_000,
            close_code: None
        })
    );
    // Re-encoding writes the current schema.
    let again: Value = serde_json::from_slice(&envelope.to_json()).expect("json");
    assert_eq!(again["schema"], 2);
    assert_eq!(again["data"]["duration_ms"], 61_000);

    let broken = raw(
        "conversation.ended",
        1,
        json!({"reason": "agent_ended", "duration_secs": "soon"}),
    );
    assert!(matches!(
        Envelope::<ConversationEvent>::from_json(&broken),
        Err(DecodeError::Upcast { schema: 1, .. })
    ));
}

#[test]
fn invalid_data_and_garbage_are_errors_not_panics() {
    let bad = raw("conversation.user_message", 1, json!({"text": 5}));
    assert!(matches!(
        Envelope::<ConversationEvent>::from_json(&bad),
        Err(DecodeError::InvalidData { .. })
    ));
    assert!(matches!(
        Envelope::<ConversationEvent>::from_json(b"not json"),
        Err(DecodeError::Envelope(_))
    ));
    let mut bad_user: Value =
        serde_json::from_slice(&raw("conversation.user_message", 1, json!({}))).expect("json");
    bad_user["user_id"] = json!("not-an-object-id");
    let bytes = serde_json::to_vec(&bad_user).expect("json");
    assert!(matches!(
        RawEnvelope::from_json(&bytes),
        Err(DecodeError::Envelope(_))
    ));
}

#[test]
fn unbalanced_ledger_event_is_refused_on_read() {
    let user = UserId::new();
    let data = json!({
        "credits": 10,
        "postings": [{"account": AccountId::User(user).to_string(), "credits": 10}],
    });
    assert!(matches!(
        Envelope::<LedgerEvent>::from_json(&raw("credits.granted", 1, data)),
        Err(DecodeError::Unbalanced { .. })
    ));
}
