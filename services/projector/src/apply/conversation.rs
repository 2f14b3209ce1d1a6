//! Conversation events → status, messages, duration and metadata.

use events::ConversationEvent;
use events::conversation::{
    AgentMessageCorrected, AnalysisReported, Interrupted, TranscriptLine, UserMessage,
};
use mongodb::bson::{self, Bson, DateTime, Document, doc};
use serde::Serialize;

use crate::document::{
    ConversationDoc, Message, OverflowOp, OverflowRef, Projection, len_i64, role, saturating_i32,
    saturating_i64, status,
};
use crate::sentiment;
use crate::sketch::LatencySketch;

/// Changes `doc` for `event`, which occurred at `at`. Derived fields are
/// recomputed by the caller.
pub(super) fn apply(doc: &mut ConversationDoc, at: DateTime, event: &ConversationEvent) {
    match event {
        ConversationEvent::Requested(e) => {
            doc.started_at = at;
            doc.set_metadata("mode", word(&e.mode));
        }
        ConversationEvent::Started(e) => {
            doc.started_at = at;
            if doc.status == status::INITIATED {
                status::IN_PROGRESS.clone_into(&mut doc.status);
            }
            doc.set_metadata(
                "elevenlabs_conversation_id",
                e.elevenlabs_conversation_id.as_str(),
            );
        }
        ConversationEvent::UserMessage(UserMessage {
            text,
            time_in_call_ms,
        }) => push(doc, role::USER, text, *time_in_call_ms, at, None, None),
        ConversationEvent::AgentMessage(e) => push(
            doc,
            role::AGENT,
            &e.text,
            e.time_in_call_ms,
            at,
            e.latency_ms.map(saturating_i32),
            e.event_id,
        ),
        ConversationEvent::AgentMessageCorrected(e) => correct(doc, e),
        ConversationEvent::Interrupted(e) => interrupt(doc, e),
        ConversationEvent::ToolCalled(e) => {
            let call = doc! {
                "tool_call_id": e.tool_call_id.as_str(),
                "tool_name": e.tool_name.as_str(),
                "time_in_call_secs": saturating_i32(e.time_in_call_ms / 1000),
            };
            let metadata = doc.metadata.get_or_insert_with(Document::new);
            match metadata.get_array_mut("tool_calls") {
                Ok(calls) => calls.push(Bson::Document(call)),
                Err(_) => {
                    metadata.insert("tool_calls", vec![Bson::Document(call)]);
                }
            }
        }
        ConversationEvent::Ended(e) => {
            finish(doc, status::PROCESSING, e.duration_ms);
            doc.set_metadata("termination_reason", word(&e.reason));
            if let Some(code) = e.close_code {
                doc.set_metadata("close_code", i32::from(code));
            }
        }
        ConversationEvent::Failed(e) => {
            finish(doc, status::FAILED, e.duration_ms);
            doc.set_metadata("termination_reason", word(&e.reason));
            doc.set_metadata("failure_message", e.message.as_str());
        }
        ConversationEvent::TranscriptSubmitted(e) => {
            if doc.projection.messages_total > len_i64(doc.messages.len()) {
                doc.pending.overflow.push(OverflowOp::Cleared);
            }
            doc.messages.clear();
            doc.projection = Projection {
                messages_total: 0,
                latency_sum_ms: 0,
                latency_turns: 0,
                last_agent_index: None,
                latency_sketch: None,
                user_sentiment_sum: 0.0,
                user_sentiment_count: 0,
                message_event_ids: Vec::new(),
                ..std::mem::take(&mut doc.projection)
            };
            doc.pending.latency = None;
            let started = doc.started_at.timestamp_millis();
            for TranscriptLine {
                role: who,
                text,
                time_in_call_ms,
            } in &e.messages
            {
                let line_at =
                    DateTime::from_millis(started.saturating_add(saturating_i64(*time_in_call_ms)));
                push(doc, &word(who), text, *time_in_call_ms, line_at, None, None);
            }
            if let Some(id) = &e.elevenlabs_conversation_id {
                doc.set_metadata("elevenlabs_conversation_id", id.as_str());
            }
            finish(doc, status::PROCESSING, e.duration_ms);
        }
        ConversationEvent::CostReported(e) => {
            // A failed call keeps `failed`; its cost still counts.
            if doc.status != status::FAILED {
                status::DONE.clone_into(&mut doc.status);
            }
            doc.projection.duration_ms = saturating_i64(e.call_duration_ms);
            doc.set_metadata(
                "elevenlabs_conversation_id",
                e.elevenlabs_conversation_id.as_str(),
            );
            doc.set_metadata("reported_credits", e.credits.get());
            if let Some(charging) = &e.charging {
                doc.set_metadata("charging", json_to_bson(charging));
            }
        }
        ConversationEvent::AnalysisReported(e) => {
            doc.set_metadata("analysis", analysis(e));
        }
    }
}

/// Records a message: embedded while the document holds fewer than its
/// limit, otherwise only in the overflow collection.
fn push(
    doc: &mut ConversationDoc,
    who: &str,
    text: &str,
    time_in_call_ms: u64,
    at: DateTime,
    latency_ms: Option<i32>,
    event_id: Option<u64>,
) {
    let message = Message {
        role: who.to_owned(),
        message: text.to_owned(),
        time_in_call_secs: saturating_i32(time_in_call_ms / 1000),
        at,
        latency_ms,
        interrupted: None,
        sentiment: Some(sentiment::score(text)),
    };
    let book = &mut doc.projection;
    if who == role::USER {
        book.user_sentiment_sum += message.sentiment.unwrap_or_default();
        book.user_sentiment_count = book.user_sentiment_count.saturating_add(1);
    }
    let index = book.messages_total;
    book.messages_total = book.messages_total.saturating_add(1);
    if who == role::AGENT {
        book.last_agent_index = Some(index);
        if let Some(ms) = latency_ms {
            book.latency_sum_ms = book.latency_sum_ms.saturating_add(i64::from(ms.max(0)));
            book.latency_turns = book.latency_turns.saturating_add(1);
            let stored = book.latency_sketch.as_ref();
            doc.pending
                .latency
                .get_or_insert_with(|| LatencySketch::decode(stored))
                .add(f64::from(ms.max(0)));
        }
    }
    let event_id = event_id.map(saturating_i64);
    if doc.messages.len() < doc.pending.embedded_messages {
        doc.messages.push(message);
        book.message_event_ids.push(event_id);
    } else {
        doc.pending.overflow.push(OverflowOp::Said {
            index,
            message,
            event_id,
        });
    }
}

/// The status a call ends in, and its length.
fn finish(doc: &mut ConversationDoc, end_status: &str, duration_ms: u64) {
    if !doc.is_over() {
        end_status.clone_into(&mut doc.status);
    }
    doc.projection.duration_ms = saturating_i64(duration_ms);
}

/// The agent message an event refers to: the one with its ElevenLabs
/// `event_id`, or without one, the last agent message that `fits`.
fn agent_message(
    doc: &ConversationDoc,
    event_id: Option<u64>,
    fits: impl Fn(&Message) -> bool,
) -> Option<usize> {
    let ids = &doc.projection.message_event_ids;
    let agents = doc
        .messages
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, m)| m.role == role::AGENT);
    match event_id {
        Some(id) => {
            let id = saturating_i64(id);
            agents
                .map(|(i, _)| i)
                .find(|&i| ids.get(i).copied().flatten() == Some(id))
        }
        None => agents.filter(|(_, m)| fits(m)).map(|(i, _)| i).next(),
    }
}

/// Where the agent message an event refers to is kept.
enum Located {
    Embedded(usize),
    Overflowed(OverflowRef),
}

/// The agent message an event refers to, embedded or overflowed. Without
/// an `event_id`, an overflowed call's last agent message is the candidate
/// (it is the one still being spoken); earlier overflowed ones are not searched.
fn locate(
    doc: &ConversationDoc,
    event_id: Option<u64>,
    fits: impl Fn(&Message) -> bool,
) -> Option<Located> {
    let embedded = len_i64(doc.messages.len());
    let overflowed = doc.projection.messages_total > embedded;
    match event_id {
        Some(id) => agent_message(doc, event_id, fits)
            .map(Located::Embedded)
            .or_else(|| {
                overflowed.then(|| Located::Overflowed(OverflowRef::EventId(saturating_i64(id))))
            }),
        None => match doc.projection.last_agent_index {
            Some(last) if last >= embedded => Some(Located::Overflowed(OverflowRef::Index(last))),
            _ => agent_message(doc, None, fits).map(Located::Embedded),
        },
    }
}

fn correct(doc: &mut ConversationDoc, e: &AgentMessageCorrected) {
    match locate(doc, e.event_id, |m| m.message == e.original) {
        Some(Located::Embedded(i)) => {
            if let Some(message) = doc.messages.get_mut(i) {
                e.corrected.clone_into(&mut message.message);
                message.sentiment = Some(sentiment::score(&e.corrected));
            }
        }
        Some(Located::Overflowed(at)) => doc.pending.overflow.push(OverflowOp::Corrected {
            at,
            original: e.event_id.is_none().then(|| e.original.clone()),
            text: e.corrected.clone(),
        }),
        None => {}
    }
}

fn interrupt(doc: &mut ConversationDoc, e: &Interrupted) {
    match locate(doc, e.event_id, |_| true) {
        Some(Located::Embedded(i)) => {
            if let Some(message) = doc.messages.get_mut(i) {
                message.interrupted = Some(true);
            }
        }
        Some(Located::Overflowed(at)) => {
            doc.pending.overflow.push(OverflowOp::Interrupted { at });
        }
        None => {}
    }
}

fn analysis(e: &AnalysisReported) -> Bson {
    let mut analysis = match json_to_bson(&e.analysis) {
        Bson::Document(d) => d,
        _ => Document::new(),
    };
    let fields = [
        ("call_successful", &e.call_successful),
        ("summary", &e.summary),
        ("termination_reason", &e.termination_reason),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            analysis.insert(key, value.as_str());
        }
    }
    Bson::Document(analysis)
}

/// A snake_case enum as the word serde writes for it.
fn word(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::new(),
    }
}

fn json_to_bson(value: &serde_json::Value) -> Bson {
    bson::to_bson(value).unwrap_or(Bson::Null)
}
