//! One agent's figures, summed over its conversations: calls, success rate
//! from ElevenLabs' analysis, duration, credits, and latency percentiles
//! from the conversations' sketches merged.

use mongodb::bson::{Bson, Document, doc};

use super::Usage;
use crate::sketch::LatencySketch;

/// The value of `analysis.call_successful` that counts as a success.
const SUCCESS: &str = "success";

/// One agent's figures while they are summed.
#[derive(Default)]
pub(crate) struct AgentFigures {
    usage: Usage,
    analyzed: i32,
    successful: i32,
    latency: LatencySketch,
}

impl AgentFigures {
    pub(crate) fn add(&mut self, conversation: &Document) {
        self.usage.add(conversation);
        let verdict = conversation
            .get_document("metadata")
            .and_then(|m| m.get_document("analysis"))
            .and_then(|a| a.get_str("call_successful"));
        if let Ok(verdict) = verdict {
            self.analyzed = self.analyzed.saturating_add(1);
            if verdict == SUCCESS {
                self.successful = self.successful.saturating_add(1);
            }
        }
        let sketch = conversation.get_document("projection").ok().and_then(|p| {
            match p.get("latencySketch") {
                Some(Bson::Binary(binary)) => Some(binary),
                _ => None,
            }
        });
        if sketch.is_some() {
            self.latency.merge(&LatencySketch::decode(sketch));
        }
    }

    pub(crate) fn to_doc(&self, agent: &str) -> Document {
        let calls = self.usage.conversations;
        let per_call = |total: f64| {
            if calls > 0 {
                total / f64::from(calls)
            } else {
                0.0
            }
        };
        doc! {
            "agentId": agent,
            "calls": calls,
            "analyzed": self.analyzed,
            "successful": self.successful,
            "successRate": if self.analyzed > 0 {
                f64::from(self.successful) / f64::from(self.analyzed)
            } else {
                0.0
            },
            "averageDuration": per_call(self.usage.seconds as f64),
            "credits": self.usage.credits,
            "latency": {
                "turns": self.usage.latency_turns,
                "average": self.usage.average_latency(),
                "p50": self.latency.quantile(0.5),
                "p90": self.latency.quantile(0.9),
                "p99": self.latency.quantile(0.99),
            },
            "asOf": self.usage.as_of(),
        }
    }
}
