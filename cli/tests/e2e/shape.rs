//! What the tests assert about the read model and the log: the Prisma
//! `Conversation` shape (every required field, with its BSON type) and a
//! few readings of a conversation's events.

use events::{ConversationEvent, ConversationId, DomainEvent};
use mongodb::bson::{Bson, Document};

pub fn kinds(events: &[ConversationEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event_type()).collect()
}

pub fn reported_credits(events: &[ConversationEvent]) -> i64 {
    events
        .iter()
        .find_map(|e| match e {
            ConversationEvent::CostReported(c) => Some(c.credits.get()),
            _ => None,
        })
        .expect("cost reported")
}

pub fn id_of(document: &Document) -> ConversationId {
    ConversationId::from_bytes(
        document
            .get_object_id("_id")
            .expect("_id is an ObjectId")
            .bytes(),
    )
}

/// Every field Prisma requires, with its BSON type, whatever the status.
pub fn assert_prisma_shape(document: &Document) {
    assert!(
        matches!(document.get("_id"), Some(Bson::ObjectId(_))),
        "_id: {document:#?}"
    );
    assert!(
        matches!(document.get("userId"), Some(Bson::ObjectId(_))),
        "userId"
    );
    assert!(
        matches!(document.get("agentId"), Some(Bson::String(_))),
        "agentId"
    );
    assert!(
        matches!(document.get("transcript"), Some(Bson::String(_))),
        "transcript"
    );
    assert!(
        matches!(document.get("duration"), Some(Bson::Int32(_))),
        "duration"
    );
    assert!(
        matches!(document.get("cost"), Some(Bson::Double(_))),
        "cost"
    );
    assert!(
        matches!(document.get("startedAt"), Some(Bson::DateTime(_))),
        "startedAt"
    );
    assert!(
        matches!(document.get("endedAt"), Some(Bson::DateTime(_))),
        "endedAt"
    );
    assert!(
        matches!(document.get("status"), Some(Bson::String(_))),
        "status"
    );
    let messages = document
        .get_array("messages")
        .expect("messages is an array");
    for message in messages {
        let Bson::Document(m) = message else {
            panic!("message is not a document: {message:?}")
        };
        assert!(
            matches!(m.get("role"), Some(Bson::String(r)) if r == "user" || r == "agent"),
            "{m:?}"
        );
        assert!(matches!(m.get("message"), Some(Bson::String(_))), "{m:?}");
        assert!(
            matches!(m.get("timeInCallSecs"), Some(Bson::Int32(_))),
            "{m:?}"
        );
        assert!(matches!(m.get("at"), Some(Bson::DateTime(_))), "{m:?}");
        assert!(
            matches!(m.get("latencyMs"), None | Some(Bson::Int32(_))),
            "{m:?}"
        );
        assert!(
            matches!(m.get("interrupted"), None | Some(Bson::Boolean(_))),
            "{m:?}"
        );
    }
    let metrics = document
        .get_document("metrics")
        .expect("metrics is a document");
    assert!(
        matches!(metrics.get("totalLatency"), Some(Bson::Int32(_))),
        "{metrics:?}"
    );
    assert!(
        matches!(metrics.get("averageLatency"), Some(Bson::Double(_))),
        "{metrics:?}"
    );
    assert!(
        matches!(metrics.get("messageCount"), Some(Bson::Int32(_))),
        "{metrics:?}"
    );
    assert!(
        matches!(metrics.get("creditsUsed"), Some(Bson::Double(_))),
        "{metrics:?}"
    );
    assert!(
        matches!(metrics.get("costPerMinute"), Some(Bson::Double(c)) if c.is_finite()),
        "{metrics:?}"
    );
    assert!(
        matches!(
            document.get("metadata"),
            Some(Bson::Document(_) | Bson::Null)
        ),
        "metadata"
    );
}

pub fn status_is(status: &'static str) -> impl Fn(&Document) -> bool {
    move |d| d.get_str("status") == Ok(status)
}

/// Done, and the cost is ElevenLabs' reported figure.
pub fn reconciled(credits: i64) -> impl Fn(&Document) -> bool {
    move |d| d.get_str("status") == Ok("done") && d.get_f64("cost") == Ok(credits as f64)
}
