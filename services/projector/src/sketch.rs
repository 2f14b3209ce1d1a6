//! Turn latencies as a DDSketch (relative error 1%, mergeable): one per
//! conversation, stored with its document, merged per agent for p50/p90/p99.
//! Stored in the Java-compatible encoding, which every DDSketch library reads.

use mongodb::bson::Binary;
use mongodb::bson::spec::BinarySubtype;
use sketches_ddsketch::{Config, DDSketch};

/// A latency sketch.
#[derive(Clone)]
pub struct LatencySketch(DDSketch);

impl Default for LatencySketch {
    fn default() -> Self {
        Self(DDSketch::new(Config::defaults()))
    }
}

impl std::fmt::Debug for LatencySketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencySketch")
            .field("count", &self.0.count())
            .finish()
    }
}

/// Equal when they encode alike (the same values, in the same buckets).
impl PartialEq for LatencySketch {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_java_bytes() == other.0.to_java_bytes()
    }
}

impl LatencySketch {
    /// The sketch stored as `binary`; an empty one when it cannot be read
    /// (it then restarts, and a rebuild restores it).
    pub fn decode(binary: Option<&Binary>) -> Self {
        binary
            .and_then(|b| DDSketch::from_java_bytes(&b.bytes).ok())
            .map_or_else(Self::default, Self)
    }

    pub fn encode(&self) -> Binary {
        Binary {
            subtype: BinarySubtype::Generic,
            bytes: self.0.to_java_bytes(),
        }
    }

    pub fn add(&mut self, latency_ms: f64) {
        self.0.add(latency_ms);
    }

    /// Adds every value of `other` (same configuration, so never refused).
    pub fn merge(&mut self, other: &Self) {
        if let Err(error) = self.0.merge(&other.0) {
            tracing::warn!(%error, "latency sketches not merged");
        }
    }

    pub fn count(&self) -> usize {
        self.0.count()
    }

    /// The `q` quantile in milliseconds; 0 with no values.
    pub fn quantile(&self, q: f64) -> f64 {
        self.0.quantile(q).ok().flatten().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_sketches_give_the_quantiles_of_all_values_within_one_percent() {
        let mut low = LatencySketch::default();
        let mut high = LatencySketch::default();
        for ms in 1..=500 {
            low.add(f64::from(ms));
        }
        for ms in 501..=1000 {
            high.add(f64::from(ms));
        }
        let mut all = LatencySketch::decode(Some(&low.encode()));
        all.merge(&LatencySketch::decode(Some(&high.encode())));
        assert_eq!(all.count(), 1000);
        for (q, exact) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = all.quantile(q);
            assert!((got - exact).abs() / exact < 0.02, "p{q}: {got} vs {exact}");
        }
    }

    #[test]
    fn an_empty_or_unreadable_sketch_has_zero_quantiles() {
        let unreadable = Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![0xff, 0x00],
        };
        assert_eq!(LatencySketch::decode(Some(&unreadable)).quantile(0.5), 0.0);
        assert_eq!(LatencySketch::decode(None).count(), 0);
    }
}
