//! `cmd.session.record` against a real nats-server: the same record sent
//! many times at once lands once, and reports already in the log are
//! skipped.

mod common;

use std::time::Duration;

use common::{Stack, rich_user};
use events::command::{Record, RecordConversation, RecordOutcome, Recorded, subject};
use events::conversation::{TranscriptLine, TranscriptSubmitted};
use events::{AgentId, ConversationEvent, ConversationId, CorrelationId, DomainEvent};
use serde_json::json;

const ASK_WITHIN: Duration = Duration::from_secs(10);

async fn ask(stack: &Stack, command: &RecordConversation) -> Recorded {
    bus::request(&stack.client, subject::SESSION_RECORD, command, ASK_WITHIN)
        .await
        .expect("recorded")
}

async fn kinds(stack: &Stack, id: ConversationId) -> Vec<&'static str> {
    let loaded = stack
        .store
        .load::<ConversationEvent>(id)
        .await
        .expect("load");
    loaded
        .events
        .iter()
        .map(|s| s.envelope.event.event_type())
        .collect()
}

#[tokio::test]
async fn the_same_transcript_sent_eight_times_at_once_is_recorded_once() {
    let stack = Stack::start().await;
    let id = ConversationId::new();
    let user = rich_user();
    let command = RecordConversation {
        conversation_id: id,
        correlation_id: CorrelationId::new(),
        record: Record::Transcript {
            user_id: user,
            agent_id: "agent_sim_default".parse::<AgentId>().expect("agent"),
            started_at: chrono::Utc::now() - chrono::Duration::seconds(30),
            transcript: TranscriptSubmitted {
                elevenlabs_conversation_id: None,
                messages: vec![TranscriptLine {
                    role: events::conversation::Role::User,
                    text: "hi".into(),
                    time_in_call_ms: 0,
                }],
                duration_ms: 30_000,
                metrics: None,
                metadata: None,
                status: None,
            },
        },
    };
    let answers = futures::future::join_all((0..8).map(|_| ask(&stack, &command))).await;
    let recorded = answers
        .iter()
        .filter(|a| a.outcome == RecordOutcome::Recorded)
        .count();
    assert_eq!(recorded, 1, "{answers:?}");
    assert!(
        answers.iter().all(|a| a.user_id == Some(user)),
        "{answers:?}"
    );
    assert_eq!(
        kinds(&stack, id).await,
        [
            "conversation.requested",
            "conversation.transcript_submitted"
        ]
    );

    let report = |cost: i64| RecordConversation {
        conversation_id: id,
        correlation_id: CorrelationId::new(),
        record: Record::ElevenLabsRecord {
            details: json!({
                "agent_id": "agent_sim_default",
                "conversation_id": "conv_x",
                "status": "done",
                "metadata": {"call_duration_secs": 30, "cost": cost},
                "analysis": {"call_successful": "success", "transcript_summary": "ok"},
            }),
        },
    };
    let reports: Vec<RecordConversation> = (0..4).map(|i| report(100 + i)).collect();
    let answers = futures::future::join_all(reports.iter().map(|r| ask(&stack, r))).await;
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.outcome == RecordOutcome::Recorded)
            .count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        kinds(&stack, id).await,
        [
            "conversation.requested",
            "conversation.transcript_submitted",
            "conversation.cost_reported",
            "conversation.analysis_reported"
        ]
    );
    let unknown = RecordConversation {
        conversation_id: ConversationId::new(),
        ..report(1)
    };
    assert_eq!(
        ask(&stack, &unknown).await.outcome,
        RecordOutcome::UnknownConversation
    );
    assert!(kinds(&stack, unknown.conversation_id).await.is_empty());
}
