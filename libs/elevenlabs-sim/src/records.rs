//! Conversation records: one per call, rendered as the REST JSON of §2.2
//! (list item) and §2.3 (details), with a change signal tests wait on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, watch};

use crate::SimError;
use crate::event::{ConversationStatus, SimEvent};

/// One conversation as the REST API reports it.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) conversation_id: String,
    pub(crate) agent_id: String,
    pub(crate) agent_name: String,
    pub(crate) user_id: Option<String>,
    pub(crate) status: ConversationStatus,
    pub(crate) start_time_unix_secs: u64,
    pub(crate) call_duration_secs: u64,
    pub(crate) transcript: Vec<Value>,
    pub(crate) initiation: Value,
    pub(crate) authorization_method: &'static str,
    pub(crate) source: Option<String>,
    pub(crate) source_version: Option<String>,
    pub(crate) text_only: bool,
    pub(crate) termination_reason: String,
    pub(crate) error: Option<(u16, String)>,
    pub(crate) has_user_audio: bool,
    pub(crate) has_response_audio: bool,
    pub(crate) charging: Option<Charging>,
    pub(crate) analysis: Option<Value>,
    pub(crate) call_successful: &'static str,
    pub(crate) feedback: Feedback,
}

/// `metadata.feedback`: the latest score and the counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Feedback {
    overall_score: Option<String>,
    likes: u32,
    dislikes: u32,
}

impl Feedback {
    /// Counts `score` (`like` or `dislike`) and makes it the overall one.
    pub(crate) fn rate(&mut self, score: String) {
        if score == "like" {
            self.likes += 1;
        } else {
            self.dislikes += 1;
        }
        self.overall_score = Some(score);
    }
}

/// What the call cost.
#[derive(Debug, Clone)]
pub(crate) struct Charging {
    pub(crate) cost: u64,
    pub(crate) call_charge: u64,
    pub(crate) llm_charge: u64,
    pub(crate) llm_price: f64,
    pub(crate) tier: &'static str,
}

impl Record {
    pub(crate) fn details(&self) -> Value {
        let (error_code, error_reason) = match &self.error {
            Some((code, reason)) => (Some(*code), Some(reason.clone())),
            None => (None, None),
        };
        let charging = self.charging.as_ref().map(|c| {
            json!({
                "dev_discount": false,
                "is_burst": false,
                "tier": c.tier,
                "llm_price": c.llm_price,
                "llm_charge": c.llm_charge,
                "call_charge": c.call_charge,
            })
        });
        let has_audio = self.has_user_audio || self.has_response_audio;
        json!({
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "conversation_id": self.conversation_id,
            "status": self.status.as_str(),
            "user_id": self.user_id,
            "transcript": self.transcript,
            "metadata": {
                "start_time_unix_secs": self.start_time_unix_secs,
                "accepted_time_unix_secs": self.start_time_unix_secs,
                "call_duration_secs": self.call_duration_secs,
                "cost": self.charging.as_ref().map(|c| c.cost),
                "charging": charging.unwrap_or(Value::Null),
                "deletion_settings": {
                    "deletion_time_unix_secs": null,
                    "deleted_logs_at_time_unix_secs": null,
                    "deleted_audio_at_time_unix_secs": null,
                    "deleted_transcript_at_time_unix_secs": null,
                    "delete_transcript_and_pii": false,
                    "delete_audio": false,
                },
                "feedback": {
                    "overall_score": self.feedback.overall_score,
                    "likes": self.feedback.likes,
                    "dislikes": self.feedback.dislikes,
                },
                "authorization_method": self.authorization_method,
                "phone_call": null,
                "batch_call": null,
                "termination_reason": self.termination_reason,
                "error": error_code.map(|code| json!({"code": code, "reason": error_reason})),
                "main_language": "en",
                "timezone": null,
                "rag_usage": null,
                "text_only": self.text_only,
                "conversation_initiation_source": self.source.as_deref().unwrap_or("unknown"),
                "conversation_initiation_source_version": self.source_version,
            },
            "analysis": self.analysis,
            "conversation_initiation_client_data": self.initiation,
            "has_audio": has_audio,
            "has_user_audio": self.has_user_audio,
            "has_response_audio": self.has_response_audio,
        })
    }

    fn summary(&self, include_summary: bool) -> Value {
        let summary = self
            .analysis
            .as_ref()
            .and_then(|a| a.get("transcript_summary").cloned());
        json!({
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "conversation_id": self.conversation_id,
            "start_time_unix_secs": self.start_time_unix_secs,
            "call_duration_secs": self.call_duration_secs,
            "message_count": self.transcript.len(),
            "status": self.status.as_str(),
            "call_successful": self.call_successful,
            "transcript_summary": if include_summary { summary } else { None },
            "call_summary_title": self.analysis.as_ref().and_then(|a| a.get("call_summary_title").cloned()),
            "direction": null,
            "termination_reason": self.termination_reason,
        })
    }
}

/// Filters and paging of `GET /v1/convai/conversations`.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub(crate) cursor: Option<String>,
    pub(crate) agent_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) call_successful: Option<String>,
    pub(crate) before: Option<u64>,
    pub(crate) after: Option<u64>,
    pub(crate) page_size: usize,
    pub(crate) include_summary: bool,
}

#[derive(Debug)]
pub(crate) struct Records {
    /// Records by id, plus ids in creation order.
    inner: Mutex<(HashMap<String, Record>, Vec<String>)>,
    version: watch::Sender<u64>,
    events: broadcast::Sender<SimEvent>,
}

impl Records {
    pub(crate) fn new(events: broadcast::Sender<SimEvent>) -> Self {
        Self {
            inner: Mutex::new((HashMap::new(), Vec::new())),
            version: watch::channel(0).0,
            events,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, Record>, Vec<String>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self, id: &str, status: Option<ConversationStatus>) {
        self.version.send_modify(|v| *v += 1);
        if let Some(status) = status {
            let _ = self.events.send(SimEvent::StatusChanged {
                conversation_id: id.to_owned(),
                status,
            });
        }
    }

    pub(crate) fn insert(&self, record: Record) {
        let id = record.conversation_id.clone();
        let status = record.status;
        {
            let mut inner = self.lock();
            inner.1.push(id.clone());
            inner.0.insert(id.clone(), record);
        }
        self.changed(&id, Some(status));
    }

    /// Applies `change`; returns false when the record is gone.
    pub(crate) fn update(&self, id: &str, change: impl FnOnce(&mut Record)) -> bool {
        let status = {
            let mut inner = self.lock();
            let Some(record) = inner.0.get_mut(id) else {
                return false;
            };
            let before = record.status;
            change(record);
            (record.status != before).then_some(record.status)
        };
        self.changed(id, status);
        true
    }

    pub(crate) fn get(&self, id: &str) -> Option<Record> {
        self.lock().0.get(id).cloned()
    }

    pub(crate) fn details(&self, id: &str) -> Option<Value> {
        self.lock().0.get(id).map(Record::details)
    }

    pub(crate) fn delete(&self, id: &str) -> bool {
        let removed = {
            let mut inner = self.lock();
            let removed = inner.0.remove(id).is_some();
            inner.1.retain(|x| x != id);
            removed
        };
        if removed {
            self.changed(id, None);
        }
        removed
    }

    /// Conversations `in-progress`, optionally of one agent.
    pub(crate) fn live_count(&self, agent_id: Option<&str>) -> usize {
        self.lock()
            .0
            .values()
            .filter(|r| r.status == ConversationStatus::InProgress)
            .filter(|r| agent_id.is_none_or(|a| a == r.agent_id))
            .count()
    }

    /// Newest first.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.lock().1.iter().rev().cloned().collect()
    }

    /// One page, newest first. The cursor is the id of the first record of
    /// the next page.
    pub(crate) fn list(&self, q: &ListQuery) -> Value {
        let inner = self.lock();
        let matching: Vec<&Record> = inner
            .1
            .iter()
            .rev()
            .filter_map(|id| inner.0.get(id))
            .filter(|r| q.agent_id.as_ref().is_none_or(|a| *a == r.agent_id))
            .filter(|r| q.user_id.is_none() || q.user_id == r.user_id)
            .filter(|r| {
                q.call_successful
                    .as_ref()
                    .is_none_or(|c| c == r.call_successful)
            })
            .filter(|r| q.before.is_none_or(|t| r.start_time_unix_secs < t))
            .filter(|r| q.after.is_none_or(|t| r.start_time_unix_secs > t))
            .collect();
        let start = q
            .cursor
            .as_ref()
            .and_then(|c| matching.iter().position(|r| r.conversation_id == *c))
            .unwrap_or(if q.cursor.is_some() {
                matching.len()
            } else {
                0
            });
        let page: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(q.page_size)
            .map(|r| r.summary(q.include_summary))
            .collect();
        let next = matching.get(start + q.page_size);
        json!({
            "conversations": page,
            "next_cursor": next.map(|r| r.conversation_id.clone()),
            "has_more": next.is_some(),
        })
    }

    pub(crate) async fn wait_for(
        &self,
        id: &str,
        status: ConversationStatus,
        timeout: Duration,
    ) -> Result<Value, SimError> {
        let mut version = self.version.subscribe();
        let wait = async {
            loop {
                if let Some(record) = self.get(id).filter(|r| r.status == status) {
                    return record.details();
                }
                if version.changed().await.is_err() {
                    // The store outlives every waiter, so this cannot end.
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| SimError::Timeout(format!("{id} to be {}", status.as_str())))
    }
}

/// A transcript entry (§2.3 "Transcript turn").
pub(crate) fn transcript_turn(
    role: &str,
    message: &str,
    time_in_call: Duration,
    medium: Option<&str>,
) -> Map<String, Value> {
    let turn = json!({
        "role": role,
        "message": message,
        "time_in_call_secs": time_in_call.as_secs(),
        "tool_calls": [],
        "tool_results": [],
        "feedback": null,
        "llm_override": null,
        "conversation_turn_metrics": null,
        "rag_retrieval_info": null,
        "llm_usage": null,
        "interrupted": false,
        "original_message": null,
        "source_medium": medium,
    });
    match turn {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
