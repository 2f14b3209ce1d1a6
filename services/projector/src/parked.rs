//! `projector_parked`: events the projector could not apply (undecodable,
//! or their document unreadable), each with its error, so one bad event
//! never stops the others. `_id` is `<STREAM>:<sequence>`, so parking the
//! same event again (a replay) keeps one entry.

use chrono::Utc;
use eventstore::{LogMessage, StreamName};
use futures::TryStreamExt;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::{Collection, Database};

use crate::error::Error;

/// The parked events' collection.
pub const COLLECTION: &str = "projector_parked";
/// MongoDB's duplicate-key error: the event is parked already.
const DUPLICATE_KEY: i32 = 11000;

/// An event set aside, with why.
#[derive(Clone, Debug, PartialEq)]
pub struct ParkedEvent {
    pub stream: StreamName,
    pub sequence: u64,
    pub subject: String,
    pub error: String,
    /// The message as stored, as text when it is UTF-8.
    pub payload: String,
}

impl ParkedEvent {
    pub fn new(stream: StreamName, message: &LogMessage, error: &dyn std::fmt::Display) -> Self {
        Self {
            stream,
            sequence: message.sequence,
            subject: message.subject.clone(),
            error: error.to_string(),
            payload: String::from_utf8_lossy(&message.payload).into_owned(),
        }
    }

    fn to_bson(&self) -> Document {
        doc! {
            "_id": format!("{}:{}", self.stream.as_str(), self.sequence),
            "stream": self.stream.as_str(),
            "sequence": i64::try_from(self.sequence).unwrap_or(i64::MAX),
            "subject": self.subject.as_str(),
            "error": self.error.as_str(),
            "payload": self.payload.as_str(),
            "parkedAt": DateTime::from_millis(Utc::now().timestamp_millis()),
        }
    }
}

/// The parked-events collection of a database.
#[derive(Clone, Debug)]
pub struct Parked {
    collection: Collection<Document>,
}

impl Parked {
    pub fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(COLLECTION),
        }
    }

    /// Parks `events` in one write; ones parked before stay as they were.
    pub async fn park(&self, events: &[ParkedEvent]) -> Result<(), Error> {
        if events.is_empty() {
            return Ok(());
        }
        for event in events {
            tracing::warn!(
                stream = %event.stream,
                sequence = event.sequence,
                subject = %event.subject,
                error = %event.error,
                "event parked"
            );
        }
        let documents: Vec<Document> = events.iter().map(ParkedEvent::to_bson).collect();
        let reply = self
            .collection
            .client()
            .database(self.collection.namespace().db.as_str())
            .run_command(doc! {
                "insert": self.collection.name(),
                "documents": documents,
                "ordered": false,
            })
            .await?;
        if let Ok(errors) = reply.get_array("writeErrors") {
            for error in errors {
                if let Bson::Document(error) = error {
                    let code = error.get_i32("code").unwrap_or_default();
                    if code != DUPLICATE_KEY {
                        return Err(Error::WriteRefused {
                            code,
                            message: error.get_str("errmsg").unwrap_or_default().to_owned(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Every parked event, oldest first per stream.
    pub async fn list(&self) -> Result<Vec<Document>, Error> {
        let parked = self
            .collection
            .find(doc! {})
            .sort(doc! { "stream": 1, "sequence": 1 })
            .await?
            .try_collect()
            .await?;
        Ok(parked)
    }
}
