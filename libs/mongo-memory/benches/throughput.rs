//! Throughput through the official driver: inserts/s and finds/s against
//! mongo-memory, next to `ping`/s measured in the same run — the wire and
//! driver cost with no storage work — as the baseline they are compared to.
//!
//! `cargo bench -p mongo-memory` (set `MONGO_MEMORY_BENCH_OPS` to change the count).

use std::time::{Duration, Instant};

use mongo_memory::MongoMemory;
use mongodb::Client;
use mongodb::bson::{Document, doc};

const DEFAULT_OPS: u32 = 5_000;
const BATCH: u32 = 1_000;

fn rate(ops: u32, elapsed: Duration) -> f64 {
    f64::from(ops) / elapsed.as_secs_f64().max(f64::EPSILON)
}

#[allow(clippy::print_stdout)]
fn report(name: &str, ops: u32, elapsed: Duration, baseline: Option<f64>) -> f64 {
    let per_second = rate(ops, elapsed);
    match baseline {
        Some(baseline) => println!(
            "{name:<28} {per_second:>10.0}/s  ({:.2}x ping)",
            per_second / baseline
        ),
        None => println!("{name:<28} {per_second:>10.0}/s  (baseline)"),
    }
    per_second
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ops = std::env::var("MONGO_MEMORY_BENCH_OPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_OPS);
    let server = MongoMemory::start().await?;
    let client = Client::with_uri_str(server.uri()).await?;
    let db = client.database("bench");
    let coll = db.collection::<Document>("items");
    db.run_command(doc! { "ping": 1 }).await?;

    let started = Instant::now();
    for _ in 0..ops {
        db.run_command(doc! { "ping": 1 }).await?;
    }
    let ping = report("ping (driver + wire)", ops, started.elapsed(), None);

    let started = Instant::now();
    for i in 0..ops {
        coll.insert_one(doc! { "_id": i64::from(i), "name": format!("item {i}"), "n": i % 97 })
            .await?;
    }
    report("insert_one", ops, started.elapsed(), Some(ping));

    let started = Instant::now();
    let mut inserted = 0;
    while inserted < ops {
        let batch: Vec<Document> = (inserted..(inserted + BATCH).min(ops))
            .map(|i| doc! { "name": format!("bulk {i}"), "n": i % 97 })
            .collect();
        inserted += u32::try_from(batch.len())?;
        coll.insert_many(batch).await?;
    }
    report("insert_many (docs)", ops, started.elapsed(), Some(ping));

    let started = Instant::now();
    for i in 0..ops {
        coll.find_one(doc! { "_id": i64::from(i) }).await?;
    }
    report("find_one by _id", ops, started.elapsed(), Some(ping));

    let scans = (ops / 100).max(1);
    let started = Instant::now();
    for i in 0..scans {
        coll.find_one(doc! { "n": i % 97, "name": "absent" })
            .await?;
    }
    report(
        &format!("find_one full scan ({}k docs)", 2 * ops / 1000),
        scans,
        started.elapsed(),
        Some(ping),
    );

    server.shutdown().await;
    Ok(())
}
