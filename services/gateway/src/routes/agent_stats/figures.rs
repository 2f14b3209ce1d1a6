//! One agent's figures over some conversations, as the projector's
//! `agent_stats` rollup computes them (services/projector `rollup::agent`):
//! calls, ElevenLabs' success rate, average duration, credits, and latency
//! percentiles from the conversations' DDSketches merged. The gateway sums
//! a user's own conversations this way; the rollup covers everyone's.

use bson::{Bson, Document};
use serde::Serialize;
use sketches_ddsketch::{Config, DDSketch};

/// `analysis.call_successful` counted as a success.
const SUCCESS: &str = "success";

/// Whose conversations the figures cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Coverage {
    /// Every user's (the projector's rollup): admin and finance.
    All,
    /// The caller's own.
    Own,
}

/// `GET /api/agents/{agentId}/stats`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentStats {
    pub agent_id: String,
    pub coverage: Coverage,
    pub calls: i32,
    /// Calls ElevenLabs judged; the success rate is over these.
    pub analyzed: i32,
    pub successful: i32,
    pub success_rate: f64,
    /// Seconds per call.
    pub average_duration: f64,
    pub credits: f64,
    pub latency: Latency,
}

/// Agent turn latencies, milliseconds (percentiles within 1%).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Latency {
    pub turns: i64,
    pub average: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// What a sum of conversations needs from each document.
pub fn projection() -> Document {
    bson::doc! {
        "duration": 1, "cost": 1, "metadata.analysis.call_successful": 1,
        "projection.latencySketch": 1, "projection.latencySumMs": 1,
        "projection.latencyTurns": 1,
    }
}

/// Figures while they are summed.
pub struct Figures {
    calls: i32,
    analyzed: i32,
    successful: i32,
    seconds: i64,
    credits: f64,
    latency_sum_ms: i64,
    latency_turns: i64,
    sketch: DDSketch,
}

impl Default for Figures {
    fn default() -> Self {
        Self {
            calls: 0,
            analyzed: 0,
            successful: 0,
            seconds: 0,
            credits: 0.0,
            latency_sum_ms: 0,
            latency_turns: 0,
            sketch: DDSketch::new(Config::defaults()),
        }
    }
}

impl Figures {
    pub fn calls(&self) -> i32 {
        self.calls
    }

    pub fn add(&mut self, conversation: &Document) {
        self.calls = self.calls.saturating_add(1);
        self.seconds = self
            .seconds
            .saturating_add(i64::from(conversation.get_i32("duration").unwrap_or(0)));
        self.credits += conversation.get_f64("cost").unwrap_or(0.0);
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
        let Ok(book) = conversation.get_document("projection") else {
            return;
        };
        self.latency_sum_ms = self
            .latency_sum_ms
            .saturating_add(book.get_i64("latencySumMs").unwrap_or(0));
        self.latency_turns = self
            .latency_turns
            .saturating_add(book.get_i64("latencyTurns").unwrap_or(0));
        if let Some(Bson::Binary(binary)) = book.get("latencySketch") {
            // An unreadable sketch is left out, as the projector does.
            if let Ok(sketch) = DDSketch::from_java_bytes(&binary.bytes)
                && let Err(error) = self.sketch.merge(&sketch)
            {
                tracing::warn!(%error, "latency sketches not merged");
            }
        }
    }

    pub fn stats(&self, agent_id: &str) -> AgentStats {
        let per = |total: f64, count: f64| if count > 0.0 { total / count } else { 0.0 };
        let quantile = |q| self.sketch.quantile(q).ok().flatten().unwrap_or(0.0);
        AgentStats {
            agent_id: agent_id.to_owned(),
            coverage: Coverage::Own,
            calls: self.calls,
            analyzed: self.analyzed,
            successful: self.successful,
            success_rate: per(f64::from(self.successful), f64::from(self.analyzed)),
            average_duration: per(self.seconds as f64, f64::from(self.calls)),
            credits: self.credits,
            latency: Latency {
                turns: self.latency_turns,
                average: per(self.latency_sum_ms as f64, self.latency_turns as f64),
                p50: quantile(0.5),
                p90: quantile(0.9),
                p99: quantile(0.99),
            },
        }
    }
}

/// The projector's `agent_stats` document as the same JSON.
pub fn from_rollup(rollup: &Document) -> AgentStats {
    let f64_of = |d: &Document, key| {
        d.get(key)
            .and_then(|v| match v {
                Bson::Double(x) => Some(*x),
                Bson::Int32(x) => Some(f64::from(*x)),
                Bson::Int64(x) => Some(*x as f64),
                _ => None,
            })
            .unwrap_or(0.0)
    };
    let empty = Document::new();
    let latency = rollup.get_document("latency").unwrap_or(&empty);
    AgentStats {
        agent_id: rollup.get_str("agentId").unwrap_or_default().to_owned(),
        coverage: Coverage::All,
        calls: rollup.get_i32("calls").unwrap_or(0),
        analyzed: rollup.get_i32("analyzed").unwrap_or(0),
        successful: rollup.get_i32("successful").unwrap_or(0),
        success_rate: f64_of(rollup, "successRate"),
        average_duration: f64_of(rollup, "averageDuration"),
        credits: f64_of(rollup, "credits"),
        latency: Latency {
            turns: latency.get_i64("turns").unwrap_or(0),
            average: f64_of(latency, "average"),
            p50: f64_of(latency, "p50"),
            p90: f64_of(latency, "p90"),
            p99: f64_of(latency, "p99"),
        },
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;
    use bson::spec::BinarySubtype;

    use super::*;

    fn conversation(duration: i32, verdict: Option<&str>, latencies: &[f64]) -> Document {
        let mut sketch = DDSketch::new(Config::defaults());
        for ms in latencies {
            sketch.add(*ms);
        }
        let mut document = doc! {
            "duration": duration,
            "cost": 100.0,
            "projection": {
                "latencySumMs": latencies.iter().sum::<f64>() as i64,
                "latencyTurns": latencies.len() as i64,
                "latencySketch": bson::Binary { subtype: BinarySubtype::Generic, bytes: sketch.to_java_bytes() },
            },
        };
        if let Some(verdict) = verdict {
            document.insert(
                "metadata",
                doc! { "analysis": { "call_successful": verdict } },
            );
        }
        document
    }

    #[test]
    fn own_figures_sum_calls_verdicts_and_merge_the_sketches() {
        let mut figures = Figures::default();
        let low: Vec<f64> = (1..=50).map(f64::from).collect();
        let high: Vec<f64> = (51..=100).map(f64::from).collect();
        figures.add(&conversation(30, Some("success"), &low));
        figures.add(&conversation(90, Some("failure"), &high));
        figures.add(&conversation(0, None, &[]));
        let stats = figures.stats("agent_1");
        assert_eq!((stats.calls, stats.analyzed, stats.successful), (3, 2, 1));
        assert_eq!(stats.success_rate, 0.5);
        assert_eq!(stats.average_duration, 40.0);
        assert_eq!(stats.credits, 300.0);
        assert_eq!(stats.latency.turns, 100);
        assert_eq!(stats.latency.average, 50.5);
        assert!(
            (stats.latency.p50 - 50.0).abs() / 50.0 < 0.02,
            "{}",
            stats.latency.p50
        );
        assert!(
            (stats.latency.p99 - 99.0).abs() / 99.0 < 0.02,
            "{}",
            stats.latency.p99
        );
    }

    #[test]
    fn no_conversations_give_zeroes_not_nan() {
        let stats = Figures::default().stats("agent_1");
        assert_eq!(stats.calls, 0);
        assert_eq!(stats.success_rate, 0.0);
        assert_eq!(stats.latency.p50, 0.0);
    }
}
