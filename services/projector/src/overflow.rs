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
