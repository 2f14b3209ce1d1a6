//! Given events, then the document: no I/O.

use chrono::{DateTime as ChronoTime, Duration, TimeZone, Utc};
use events::conversation::{
    AgentMessage, AgentMessageCorrected, ConversationMode, CostReported, EndReason, Ended, Failed,
    FailureReason, Interrupted, Requested, Role, Started, TranscriptLine, TranscriptSubmitted,
    UserMessage,
};
use events::ledger::{ChargeAdjusted, HoldCaptured, UsageCharged};
use events::{
    AccountId, AgentId, ConversationEvent, ConversationId, CorrelationId, Credits, Envelope,
    EnvelopeMeta, LedgerEvent, UserId,
};
use mongodb::bson::Bson;

use super::*;
use crate::document::status;

struct Given {
    id: ConversationId,
    user: UserId,
    agent: AgentId,
    start: ChronoTime<Utc>,
    doc: Option<ConversationDoc>,
    sequence: u64,
}

impl Given {
    fn new() -> Self {
        Self {
            id: ConversationId::new(),
            user: UserId::new(),
            agent: "agent_test".parse().expect("agent id"),
            start: Utc.timestamp_millis_opt(1_750_000_000_000).unwrap(),
            doc: None,
            sequence: 0,
        }
    }

    fn at(&self, ms: i64) -> ChronoTime<Utc> {
        self.start + Duration::milliseconds(ms)
    }

    fn conv(&self, ms: i64, event: ConversationEvent) -> Envelope<ConversationEvent> {
        let mut meta = EnvelopeMeta::new(self.id.to_string(), CorrelationId::new())
            .for_user(self.user)
            .with_agent(self.agent.clone());
        meta.occurred_at = self.at(ms);
        Envelope::new(meta, event)
    }

    fn ledger(&self, ms: i64, event: LedgerEvent) -> Envelope<LedgerEvent> {
        let mut meta =
            EnvelopeMeta::new(AccountId::User(self.user).to_string(), CorrelationId::new());
        meta.occurred_at = self.at(ms);
        Envelope::new(meta, event)
    }

    fn doc_for(&mut self, at: ChronoTime<Utc>, user: Option<UserId>) -> &mut ConversationDoc {
        let id = self.id;
        self.doc.get_or_insert_with(|| new_document(id, user, at))
    }

    fn apply(&mut self, ms: i64, event: ConversationEvent) -> bool {
        self.sequence += 1;
        let (sequence, envelope) = (self.sequence, self.conv(ms, event));
        let doc = self.doc_for(envelope.meta.occurred_at, envelope.meta.user_id);
        let changed = conversation_event(doc, sequence, &envelope);
        doc.derive();
        changed
    }

    fn apply_ledger(&mut self, ms: i64, event: LedgerEvent) -> bool {
        self.sequence += 1;
        let (sequence, envelope) = (self.sequence, self.ledger(ms, event));
        let doc = self.doc_for(envelope.meta.occurred_at, user_of(&envelope));
        let changed = ledger_event(doc, sequence, &envelope);
        doc.derive();
        changed
    }

    fn doc(&self) -> &ConversationDoc {
        self.doc.as_ref().expect("a document")
    }
}

fn requested() -> ConversationEvent {
    ConversationEvent::Requested(Requested {
        mode: ConversationMode::Live,
        owner: None,
    })
}

fn started() -> ConversationEvent {
    ConversationEvent::Started(Started {
        elevenlabs_conversation_id: "conv_el_1".into(),
        user_input_audio_format: None,
        agent_output_audio_format: None,
        text_only: false,
    })
}

fn user(text: &str, ms: u64) -> ConversationEvent {
    ConversationEvent::UserMessage(UserMessage {
        text: text.into(),
        time_in_call_ms: ms,
    })
}

fn agent(text: &str, ms: u64, latency_ms: Option<u64>, event_id: u64) -> ConversationEvent {
    ConversationEvent::AgentMessage(AgentMessage {
        text: text.into(),
        time_in_call_ms: ms,
        latency_ms,
        event_id: Some(event_id),
    })
}

fn ended(duration_ms: u64) -> ConversationEvent {
    ConversationEvent::Ended(Ended {
        reason: EndReason::AgentEnded,
        duration_ms,
        close_code: Some(1000),
    })
}

#[test]
fn requested_gives_a_complete_initiated_document() {
    let mut given = Given::new();
    assert!(given.apply(0, requested()));
    let doc = given.doc();
    assert_eq!(doc.status, status::INITIATED);
    assert_eq!(doc.agent_id, "agent_test");
    assert_eq!(doc.user_id.bytes(), given.user.bytes());
    assert_eq!(doc.started_at, bson_time(given.start));
    assert_eq!(doc.ended_at, bson_time(given.start));
    assert_eq!(
        (doc.transcript.as_str(), doc.duration, doc.cost),
        ("", 0, 0.0)
    );
    let metadata = doc.metadata.as_ref().expect("metadata");
    assert_eq!(metadata.get_str("mode"), Ok("live"));
}

#[test]
fn a_whole_call_moves_through_the_statuses_with_its_figures() {
    let mut given = Given::new();
    given.apply(0, requested());
    given.apply(200, started());
    assert_eq!(given.doc().status, status::IN_PROGRESS);
    assert_eq!(given.doc().started_at, bson_time(given.at(200)));
    given.apply(300, agent("Hi!", 100, None, 1));
    given.apply(2_300, user("Table for two", 2_100));
    given.apply(
        2_800,
        agent("Sure, which day and what time?", 2_600, Some(500), 2),
    );
    given.apply(
        3_000,
        ConversationEvent::Interrupted(Interrupted {
            event_id: Some(2),
            time_in_call_ms: 2_800,
        }),
    );
    given.apply(
        3_000,
        ConversationEvent::AgentMessageCorrected(AgentMessageCorrected {
            original: "Sure, which day and what time?".into(),
            corrected: "Sure, which day".into(),
            event_id: Some(2),
            time_in_call_ms: 2_800,
        }),
    );
    given.apply(4_000, user("Friday", 3_800));
    given.apply(4_900, agent("Booked.", 4_700, Some(900), 3));
    let doc = given.doc();
    assert_eq!(doc.status, status::IN_PROGRESS);
    assert_eq!(doc.ended_at, bson_time(given.at(4_900)));
    assert_eq!(
        doc.transcript,
        "agent: Hi!\nuser: Table for two\nagent: Sure, which day\nuser: Friday\nagent: Booked."
    );
    assert_eq!(doc.messages[2].interrupted, Some(true));
    assert_eq!(doc.messages[2].latency_ms, Some(500));
    assert_eq!(doc.messages[1].time_in_call_secs, 2);
    assert_eq!(doc.messages[0].interrupted, None);
    assert_eq!(doc.metrics.total_latency, 1_400);
    assert_eq!(doc.metrics.average_latency, 700.0);
    assert_eq!(doc.metrics.message_count, 5);
    assert_eq!(doc.duration, 0, "no duration until the call ends");

    given.apply(6_000, ended(90_000));
    assert_eq!(given.doc().status, status::PROCESSING);
    assert_eq!(given.doc().duration, 90);
    assert_eq!(given.doc().ended_at, bson_time(given.at(6_000)));

    let conversation_id = given.id;
    given.apply_ledger(
        6_100,
        LedgerEvent::HoldCaptured(HoldCaptured {
            conversation_id,
            credits: Credits::new(10),
            postings: vec![],
        }),
    );
    given.apply_ledger(
        6_100,
        LedgerEvent::UsageCharged(UsageCharged {
            conversation_id,
            credits: Credits::new(5),
            duration_ms: 90_000,
            postings: vec![],
        }),
    );
    assert_eq!(given.doc().cost, 15.0);
    assert_eq!(given.doc().metrics.cost_per_minute, 10.0);
    assert_eq!(
        given.doc().ended_at,
        bson_time(given.at(6_000)),
        "fixed once over"
    );

    given.apply(
        9_000,
        ConversationEvent::CostReported(CostReported {
            elevenlabs_conversation_id: "conv_el_1".into(),
            credits: Credits::new(12),
            call_duration_ms: 60_000,
            charging: None,
        }),
    );
    given.apply_ledger(
        9_100,
        LedgerEvent::ChargeAdjusted(ChargeAdjusted {
            conversation_id,
            estimated: Credits::new(15),
            actual: Credits::new(12),
            postings: vec![],
            detail: Default::default(),
        }),
    );
    let doc = given.doc();
    assert_eq!(doc.status, status::DONE);
    assert_eq!(doc.duration, 60);
    assert_eq!(doc.cost, 12.0);
    assert_eq!(doc.metrics.credits_used, 12.0);
    assert_eq!(doc.metrics.cost_per_minute, 12.0);
    assert_eq!(doc.ended_at, bson_time(given.at(6_000)));
    let metadata = doc.metadata.as_ref().expect("metadata");
    assert_eq!(
        metadata.get_str("elevenlabs_conversation_id"),
        Ok("conv_el_1")
    );
    assert_eq!(metadata.get_str("termination_reason"), Ok("agent_ended"));
    assert_eq!(metadata.get("close_code"), Some(&Bson::Int32(1000)));
}

#[test]
fn an_event_already_applied_changes_nothing() {
    let mut given = Given::new();
    given.apply(0, requested());
    given.apply(10, user("hello", 0));
    let envelope = given.conv(10, user("hello", 0));
    let before = given.doc().clone();
    let doc = given.doc.as_mut().expect("doc");
    assert!(!conversation_event(doc, 2, &envelope));
    assert!(!conversation_event(doc, 1, &envelope));
    assert_eq!(*doc, before);
}

#[test]
fn corrections_without_an_event_id_match_the_last_agent_message_with_that_text() {
    let mut given = Given::new();
    given.apply(0, requested());
    given.apply(
        10,
        ConversationEvent::AgentMessage(AgentMessage {
            text: "one two three".into(),
            time_in_call_ms: 0,
            latency_ms: None,
            event_id: None,
        }),
    );
    given.apply(20, user("stop", 500));
    given.apply(
        30,
        ConversationEvent::AgentMessageCorrected(AgentMessageCorrected {
            original: "one two three".into(),
            corrected: "one".into(),
            event_id: None,
            time_in_call_ms: 600,
        }),
    );
    given.apply(
        40,
        ConversationEvent::Interrupted(Interrupted {
            event_id: None,
            time_in_call_ms: 600,
        }),
    );
    assert_eq!(given.doc().transcript, "agent: one\nuser: stop");
    assert_eq!(given.doc().messages[0].interrupted, Some(true));
}

#[test]
fn a_zero_length_call_costs_zero_per_minute() {
    let mut given = Given::new();
    given.apply(0, requested());
    given.apply(1, ended(0));
    let conversation_id = given.id;
    given.apply_ledger(
        2,
        LedgerEvent::UsageCharged(UsageCharged {
            conversation_id,
            credits: Credits::new(1),
            duration_ms: 0,
            postings: vec![],
        }),
    );
    let doc = given.doc();
    assert_eq!((doc.duration, doc.cost), (0, 1.0));
    assert_eq!(doc.metrics.cost_per_minute, 0.0);
}

#[test]
fn a_ledger_event_first_makes_a_document_for_the_accounts_user() {
    let mut given = Given::new();
    let conversation_id = given.id;
    assert!(given.apply_ledger(
        0,
        LedgerEvent::HoldCaptured(HoldCaptured {
            conversation_id,
            credits: Credits::new(3),
            postings: vec![],
        })
    ));
    assert_eq!(given.doc().user_id.bytes(), given.user.bytes());
    assert_eq!(given.doc().cost, 3.0);
    given.apply(5, requested());
    assert_eq!(given.doc().agent_id, "agent_test");
    assert_eq!(given.doc().cost, 3.0);
}

#[test]
fn a_failed_call_stays_failed_when_its_cost_arrives() {
    let mut given = Given::new();
    given.apply(0, requested());
    given.apply(10, started());
    given.apply(
        20,
        ConversationEvent::Failed(Failed {
            reason: FailureReason::SessionLost,
            message: "session instance gone".into(),
            duration_ms: 4_000,
        }),
    );
    given.apply(
        30,
        ConversationEvent::CostReported(CostReported {
            elevenlabs_conversation_id: "conv_el_1".into(),
            credits: Credits::new(2),
            call_duration_ms: 4_000,
            charging: None,
        }),
    );
    let doc = given.doc();
    assert_eq!(doc.status, status::FAILED);
    assert_eq!(doc.duration, 4);
    assert_eq!(doc.ended_at, bson_time(given.at(20)));
    let metadata = doc.metadata.as_ref().expect("metadata");
    assert_eq!(metadata.get_str("termination_reason"), Ok("session_lost"));
}

#[test]
fn a_submitted_transcript_becomes_the_messages() {
    let mut given = Given::new();
    given.apply(
        0,
        ConversationEvent::Requested(Requested {
            mode: ConversationMode::ClientSide,
            owner: None,
        }),
    );
    given.apply(
        70_000,
        ConversationEvent::TranscriptSubmitted(TranscriptSubmitted {
            elevenlabs_conversation_id: Some("conv_el_2".into()),
            messages: vec![
                TranscriptLine {
                    role: Role::Agent,
                    text: "Hello".into(),
                    time_in_call_ms: 0,
                },
                TranscriptLine {
                    role: Role::User,
                    text: "Bye".into(),
                    time_in_call_ms: 1_500,
                },
            ],
            duration_ms: 65_000,
            metrics: None,
            metadata: None,
            status: None,
        }),
    );
    let doc = given.doc();
    assert_eq!(doc.status, status::PROCESSING);
    assert_eq!(doc.transcript, "agent: Hello\nuser: Bye");
    assert_eq!(doc.duration, 65);
    assert_eq!(doc.messages[1].at, bson_time(given.at(1_500)));
}

mod overflow_and_sentiment;
