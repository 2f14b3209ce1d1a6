//! `parlor rebuild --verify`: a sample of the rebuilt conversations
//! compared with ElevenLabs' own records of them (`GET
//! /v1/convai/conversations/{id}`: duration, message count, cost), reported
//! before the swap. Needs `ELEVENLABS_API_KEY` (and `ELEVENLABS_BASE_URL`
//! for a simulator).

use anyhow::Context;
use elevenlabs::rest::ConversationDetails;
use elevenlabs::{ApiKey, Endpoints, RestClient, RetryPolicy};
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::{Document, doc};

/// A duration within this many seconds of ElevenLabs' agrees (ours is
/// rounded from milliseconds, theirs truncated or rounded).
const DURATION_TOLERANCE_SECS: i64 = 1;

/// One figure that differs from ElevenLabs' record.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub conversation: String,
    pub field: &'static str,
    pub ours: String,
    pub theirs: String,
}

/// What a verification found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verified {
    pub checked: usize,
    pub unreachable: Vec<(String, String)>,
    pub mismatches: Vec<Mismatch>,
}

pub struct Verifier {
    rest: RestClient,
    sample: usize,
}

impl Verifier {
    pub fn from_env(sample: usize) -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let key = var("ELEVENLABS_API_KEY")
            .context("--verify reads ElevenLabs' records: set ELEVENLABS_API_KEY")?;
        let endpoints = match var("ELEVENLABS_BASE_URL") {
            Some(base) => Endpoints::from_http_base(&base)
                .with_context(|| format!("ELEVENLABS_BASE_URL={base}"))?,
            None => Endpoints::default(),
        };
        let rest = RestClient::new(endpoints, ApiKey::new(key), RetryPolicy::default())
            .context("the ElevenLabs client")?;
        Ok(Self { rest, sample })
    }

    /// Compares the newest finished conversations of `collection`.
    pub async fn verify(&self, db: &Database, collection: &str) -> anyhow::Result<Verified> {
        let sample: Vec<Document> = db
            .collection::<Document>(collection)
            .find(doc! {
                "status": { "$in": ["done", "failed"] },
                "metadata.elevenlabs_conversation_id": { "$exists": true },
            })
            .sort(doc! { "startedAt": -1 })
            .limit(i64::try_from(self.sample).unwrap_or(i64::MAX))
            .await?
            .try_collect()
            .await?;
        let mut verified = Verified::default();
        for conversation in &sample {
            let Ok(theirs) = conversation
                .get_document("metadata")
                .and_then(|m| m.get_str("elevenlabs_conversation_id"))
            else {
                continue;
            };
            match self.rest.get_conversation(theirs).await {
                Ok(record) => {
                    verified.checked += 1;
                    verified.mismatches.extend(compare(conversation, &record));
                }
                Err(error) => verified
                    .unreachable
                    .push((theirs.to_owned(), error.to_string())),
            }
        }
        Ok(verified)
    }
}

/// The figures of `ours` that differ from ElevenLabs' `record`.
pub fn compare(ours: &Document, record: &ConversationDetails) -> Vec<Mismatch> {
    let id = ours
        .get_object_id("_id")
        .map(|id| id.to_hex())
        .unwrap_or_default();
    let mut mismatches = Vec::new();
    let mut differ = |field, ours: String, theirs: String| {
        mismatches.push(Mismatch {
            conversation: id.clone(),
            field,
            ours,
            theirs,
        });
    };
    let duration = i64::from(ours.get_i32("duration").unwrap_or_default());
    if (duration - record.metadata.call_duration_secs).abs() > DURATION_TOLERANCE_SECS {
        differ(
            "duration",
            duration.to_string(),
            record.metadata.call_duration_secs.to_string(),
        );
    }
    let messages = ours
        .get_document("metrics")
        .and_then(|m| m.get_i32("messageCount"))
        .unwrap_or_default();
    let turns = record.transcript.len();
    if usize::try_from(messages).ok() != Some(turns) {
        differ("messages", messages.to_string(), turns.to_string());
    }
    let cost = ours.get_f64("cost").unwrap_or_default();
    if let Some(charged) = record.metadata.cost
        && (cost - charged as f64).abs() > f64::EPSILON
    {
        differ("cost", format!("{cost}"), charged.to_string());
    }
    mismatches
}

#[cfg(test)]
mod tests {
    use elevenlabs::rest::ConversationMetadata;
    use mongodb::bson::oid::ObjectId;

    use super::*;

    fn record(duration: i64, turns: usize, cost: Option<i64>) -> ConversationDetails {
        let turn = serde_json::json!({ "role": "agent", "message": "hi", "time_in_call_secs": 0 });
        serde_json::from_value(serde_json::json!({
            "agent_id": "agent_1",
            "conversation_id": "conv_1",
            "status": "done",
            "transcript": vec![turn; turns],
            "metadata": ConversationMetadata {
                call_duration_secs: duration,
                cost,
                ..ConversationMetadata::default()
            },
        }))
        .expect("a record")
    }

    fn ours(duration: i32, messages: i32, cost: f64) -> Document {
        doc! {
            "_id": ObjectId::from_bytes([1; 12]),
            "duration": duration,
            "cost": cost,
            "metrics": { "messageCount": messages },
        }
    }

    #[test]
    fn agreeing_figures_report_nothing_within_a_second() {
        assert_eq!(compare(&ours(61, 4, 400.0), &record(60, 4, Some(400))), []);
        assert_eq!(compare(&ours(61, 4, 400.0), &record(61, 4, None)), []);
    }

    #[test]
    fn each_differing_figure_is_reported_with_both_values() {
        let found = compare(&ours(90, 3, 350.0), &record(60, 4, Some(400)));
        let fields: Vec<_> = found
            .iter()
            .map(|m| (m.field, m.ours.as_str(), m.theirs.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("duration", "90", "60"),
                ("messages", "3", "4"),
                ("cost", "350", "400")
            ]
        );
    }
}
