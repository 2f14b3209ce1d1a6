//! `conversation_messages`: the messages of a call beyond what its document
//! embeds (see [`DEFAULT_EMBEDDED_MESSAGES`](crate::document::DEFAULT_EMBEDDED_MESSAGES)),
//! one document per message, `_id` `<conversation id>:<index>`.
//!
//! Every write is idempotent, so replaying a batch after a crash leaves the
//! same messages: a message is inserted under its stable `_id` only if
//! absent (a duplicate is ignored, never overwriting a correction already
//! applied); corrections and interruptions are `$set`s.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, Document, doc};

use crate::document::{OverflowOp, OverflowRef};
use crate::sentiment;

/// One write to the overflow collection.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// Insert this message unless it is stored already.
    Insert(Document),
    /// An `update` statement (`q`, `u`).
    Update(Document),
    /// Delete every overflowed message of the conversation.
    Clear(ObjectId),
}

/// The writes for `op`, an overflow change of `conversation`.
pub fn write_of(conversation: ObjectId, op: &OverflowOp) -> Result<Write, bson::ser::Error> {
    Ok(match op {
        OverflowOp::Said {
            index,
            message,
            event_id,
        } => {
            let mut fields = doc! { "_id": format!("{}:{index}", conversation.to_hex()) };
            fields.extend(bson::to_document(message)?);
            fields.insert("conversationId", conversation);
            fields.insert("index", *index);
            if let Some(event_id) = event_id {
                fields.insert("eventId", *event_id);
            }
            Write::Insert(fields)
        }
        OverflowOp::Corrected { at, original, text } => {
            let mut q = filter(conversation, *at);
            if let Some(original) = original {
                q.insert("message", original.as_str());
            }
            Write::Update(doc! {
                "q": q,
                "u": { "$set": { "message": text.as_str(), "sentiment": sentiment::score(text) } },
            })
        }
        OverflowOp::Interrupted { at } => Write::Update(doc! {
            "q": filter(conversation, *at),
            "u": { "$set": { "interrupted": true } },
        }),
        OverflowOp::Cleared => Write::Clear(conversation),
    })
}

/// The overflow messages `ops` leave, from none, in index order: what
/// their writes in order would leave in the collection.
pub fn materialize(
    conversation: ObjectId,
    ops: &[OverflowOp],
) -> Result<Vec<Document>, bson::ser::Error> {
    let mut messages: Vec<Document> = Vec::new();
    for op in ops {
        match write_of(conversation, op)? {
            Write::Insert(message) => {
                let id = message.get_str("_id").unwrap_or_default();
                if !messages
                    .iter()
                    .any(|m| m.get_str("_id").unwrap_or_default() == id)
                {
                    messages.push(message);
                }
            }
            Write::Update(statement) => {
                let (Ok(q), Ok(u)) = (
                    statement.get_document("q"),
                    statement
                        .get_document("u")
                        .and_then(|u| u.get_document("$set")),
                ) else {
                    continue;
                };
                let target = messages.iter_mut().find(|m| {
                    q.iter()
                        .filter(|(key, _)| key.as_str() != "conversationId")
                        .all(|(key, value)| m.get(key) == Some(value))
                });
                if let Some(message) = target {
                    message.extend(u.clone());
                }
            }
            Write::Clear(_) => messages.clear(),
        }
    }
    messages.sort_by_key(|m| m.get_i64("index").unwrap_or_default());
    Ok(messages)
}

fn filter(conversation: ObjectId, at: OverflowRef) -> Document {
    match at {
        OverflowRef::EventId(id) => doc! { "conversationId": conversation, "eventId": id },
        OverflowRef::Index(index) => doc! { "conversationId": conversation, "index": index },
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::DateTime;

    use super::*;
    use crate::document::Message;

    #[test]
    fn a_said_message_is_inserted_under_a_stable_id() {
        let conversation = ObjectId::from_bytes([1; 12]);
        let message = Message {
            role: "agent".into(),
            message: "hi".into(),
            time_in_call_secs: 4,
            at: DateTime::from_millis(9),
            latency_ms: Some(300),
            interrupted: None,
            sentiment: None,
        };
        let op = OverflowOp::Said {
            index: 1000,
            message,
            event_id: Some(7),
        };
        let Ok(Write::Insert(fields)) = write_of(conversation, &op) else {
            panic!("an insert");
        };
        assert_eq!(
            fields.get_str("_id"),
            Ok(format!("{}:1000", conversation.to_hex()).as_str())
        );
        assert_eq!(fields.get_object_id("conversationId"), Ok(conversation));
        assert_eq!(fields.get_i64("index"), Ok(1000));
        assert_eq!(fields.get_i64("eventId"), Ok(7));
        assert_eq!(fields.get_i32("latencyMs"), Ok(300));
    }

    #[test]
    fn materialized_messages_are_what_the_writes_leave() {
        let conversation = ObjectId::from_bytes([3; 12]);
        let said = |index: i64, text: &str, event_id: i64| OverflowOp::Said {
            index,
            message: Message {
                role: "agent".into(),
                message: text.into(),
                time_in_call_secs: 1,
                at: DateTime::from_millis(1),
                latency_ms: None,
                interrupted: None,
                sentiment: None,
            },
            event_id: Some(event_id),
        };
        let ops = [
            said(500, "gone", 1),
            OverflowOp::Cleared,
            said(501, "helo", 8),
            said(500, "first", 7),
            said(500, "duplicate", 9),
            OverflowOp::Corrected {
                at: OverflowRef::EventId(8),
                original: None,
                text: "hello".into(),
            },
            OverflowOp::Interrupted {
                at: OverflowRef::Index(500),
            },
        ];
        let messages = materialize(conversation, &ops).expect("materialize");
        let texts: Vec<_> = messages.iter().map(|m| m.get_str("message")).collect();
        assert_eq!(texts, [Ok("first"), Ok("hello")]);
        assert_eq!(messages[0].get_bool("interrupted"), Ok(true));
        assert_eq!(
            messages[1].get_f64("sentiment"),
            Ok(sentiment::score("hello"))
        );
    }

    #[test]
    fn a_correction_without_an_event_id_only_matches_the_original_text() {
        let conversation = ObjectId::from_bytes([2; 12]);
        let op = OverflowOp::Corrected {
            at: OverflowRef::Index(1200),
            original: Some("helo".into()),
            text: "hello".into(),
        };
        assert_eq!(
            write_of(conversation, &op).expect("write"),
            Write::Update(doc! {
                "q": { "conversationId": conversation, "index": 1200_i64, "message": "helo" },
                "u": { "$set": { "message": "hello", "sentiment": 0.0 } },
            })
        );
    }
}
