//! `parlor events stats`: how many events of each stream and type, and the
//! time span they cover.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use events::RawEnvelope;
use eventstore::StreamName;

use crate::events_cmd::print_line;
use crate::table::Table;

/// Counts as the events stream by.
#[derive(Default)]
pub struct Stats {
    by_type: BTreeMap<(&'static str, String), Counted>,
    undecodable: BTreeMap<&'static str, u64>,
}

#[derive(Clone, Copy)]
struct Counted {
    events: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

impl Stats {
    pub fn add(&mut self, stream: StreamName, raw: &RawEnvelope) {
        let at = raw.occurred_at;
        self.by_type
            .entry((stream.as_str(), raw.event_type.clone()))
            .and_modify(|c| {
                c.events += 1;
                c.first = c.first.min(at);
                c.last = c.last.max(at);
            })
            .or_insert(Counted {
                events: 1,
                first: at,
                last: at,
            });
    }

    pub fn undecodable(&mut self, stream: StreamName) {
        *self.undecodable.entry(stream.as_str()).or_default() += 1;
    }

    pub fn print(&self, table: bool) {
        let mut rows = Table::new(&["stream", "type", "events", "first", "last", "events/s"]);
        for ((stream, event_type), counted) in &self.by_type {
            let span = (counted.last - counted.first).num_milliseconds();
            // A span under a millisecond has no meaningful rate.
            let rate = (span > 0).then(|| counted.events as f64 * 1000.0 / span as f64);
            if table {
                rows.row(vec![
                    (*stream).to_owned(),
                    event_type.clone(),
                    counted.events.to_string(),
                    counted.first.to_rfc3339(),
                    counted.last.to_rfc3339(),
                    rate.map_or_else(String::new, |r| format!("{r:.1}")),
                ]);
            } else {
                print_line(&serde_json::json!({
                    "stream": stream,
                    "type": event_type,
                    "events": counted.events,
                    "first": counted.first,
                    "last": counted.last,
                    "events_per_second": rate,
                }));
            }
        }
        for (stream, count) in &self.undecodable {
            if table {
                rows.row(vec![
                    (*stream).to_owned(),
                    "(undecodable)".to_owned(),
                    count.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            } else {
                print_line(
                    &serde_json::json!({ "stream": stream, "type": null, "undecodable": count }),
                );
            }
        }
        rows.print_if(table);
    }
}
