//! Long calls overflowing the document, and sentiment: no I/O.

use events::ConversationEvent;
use events::conversation::{AgentMessageCorrected, Interrupted};

use super::{Given, agent, requested, user};
use crate::document::{ConversationDoc, OverflowOp, OverflowRef};

#[test]
fn messages_beyond_the_embedded_limit_overflow_and_still_count() {
    let mut given = Given::new();
    given.apply(0, requested());
    given
        .doc
        .as_mut()
        .expect("a document")
        .pending
        .embedded_messages = 2;
    given.apply(10, agent("one", 0, Some(100), 1));
    given.apply(20, user("two", 1_000));
    given.apply(30, agent("three", 2_000, Some(300), 3));
    given.apply(
        40,
        ConversationEvent::AgentMessageCorrected(AgentMessageCorrected {
            original: "three".into(),
            corrected: "3".into(),
            event_id: Some(3),
            time_in_call_ms: 2_100,
        }),
    );
    given.apply(
        50,
        ConversationEvent::Interrupted(Interrupted {
            event_id: None,
            time_in_call_ms: 2_200,
        }),
    );
    let doc = given.doc();
    assert_eq!(doc.messages.len(), 2);
    assert_eq!(doc.transcript, "agent: one\nuser: two");
    assert_eq!(doc.metrics.message_count, 3);
    assert_eq!(doc.metrics.total_latency, 400);
    assert_eq!(doc.metrics.average_latency, 200.0);
    let overflow = doc
        .metadata
        .as_ref()
        .and_then(|m| m.get_document("messages_overflow").ok())
        .expect("messages_overflow");
    assert_eq!(overflow.get_i64("count"), Ok(1));
    let ops = &doc.pending.overflow;
    assert!(
        matches!(
            &ops[..],
            [
                OverflowOp::Said {
                    index: 2,
                    event_id: Some(3),
                    ..
                },
                OverflowOp::Corrected {
                    at: OverflowRef::EventId(3),
                    original: None,
                    ..
                },
                OverflowOp::Interrupted {
                    at: OverflowRef::Index(2)
                },
            ]
        ),
        "{ops:?}"
    );
}

#[test]
fn sentiment_comes_from_the_user_messages_until_elevenlabs_reports_one() {
    let mut given = Given::new();
    given.apply(0, requested());
    given.apply(10, agent("This is a terrible day", 0, None, 1));
    given.apply(20, user("Thanks, that was great", 1_000));
    given.apply(30, user("Todo bien", 2_000));
    let doc = given.doc();
    assert_eq!(doc.messages[1].sentiment, Some(2.0 / 3.0));
    let sentiment = |doc: &ConversationDoc| {
        doc.metadata
            .as_ref()
            .and_then(|m| m.get_document("sentiment").ok())
            .cloned()
            .expect("sentiment")
    };
    let lexicon = sentiment(doc);
    assert_eq!(lexicon.get_f64("score"), Ok(1.0 / 3.0));
    assert_eq!(lexicon.get_str("label"), Ok("positive"));
    assert_eq!(lexicon.get_str("source"), Ok("lexicon"));
    given.apply(
        40,
        ConversationEvent::AnalysisReported(events::conversation::AnalysisReported {
            call_successful: Some("success".into()),
            summary: None,
            termination_reason: None,
            analysis: serde_json::json!({ "sentiment": "Negative" }),
        }),
    );
    let reported = sentiment(given.doc());
    assert_eq!(reported.get_str("label"), Ok("negative"));
    assert_eq!(reported.get_str("source"), Ok("elevenlabs"));
}
