//! Per-user usage by day and month and per-agent statistics follow the
//! conversations: recomputed per touched key, latencies merged from sketches.

use chrono::Duration;
use events::AgentId;
use mongodb::bson::{Bson, Document, doc};

use crate::support::{Call, World};

async fn get(world: &World, collection: &str, id: &str) -> Option<Document> {
    world
        .db
        .collection::<Document>(collection)
        .find_one(doc! { "_id": id })
        .await
        .expect("find")
}

/// A finished call of `seconds` with agent turns of these latencies,
/// costing `credits`, judged `verdict`.
async fn call(
    world: &World,
    call: &mut Call,
    seconds: u64,
    latencies: &[u64],
    credits: i64,
    verdict: &str,
) {
    let store = &world.store;
    call.append(store, 0, Call::requested()).await;
    call.append(store, 100, Call::started()).await;
    for (turn, latency) in (0..).zip(latencies) {
        call.append(
            store,
            200 + turn,
            Call::agent("hi", 0, Some(*latency), u64::try_from(turn).unwrap_or(0)),
        )
        .await;
    }
    call.append(store, 1_000, Call::ended(seconds * 1000)).await;
    let charged = call.charged(credits, seconds * 1000);
    call.append_ledger(store, 1_100, charged).await;
    call.append(store, 2_000, Call::analysis(verdict)).await;
}

#[tokio::test]
async fn usage_and_agent_statistics_follow_the_conversations() {
    let world = World::start().await;
    let agent: AgentId = "agent_rollup".parse().expect("agent");
    let mut first = Call::new();
    first.agent = agent.clone();
    call(&world, &mut first, 60, &[100, 200, 300], 400, "success").await;
    let mut second = first.then_another();
    second.start = first.start + Duration::days(1);
    call(&world, &mut second, 30, &[400, 500], 200, "failure").await;
    world.drain().await;

    let user = first.user.to_string();
    let day = |c: &Call| c.start.format("%Y-%m-%d").to_string();
    let month = first.start.format("%Y-%m").to_string();
    let daily = get(
        &world,
        "user_usage_daily",
        &format!("{user}:{}", day(&first)),
    )
    .await
    .expect("first day");
    assert_eq!(daily.get_i32("conversations"), Ok(1));
    assert_eq!(daily.get_i64("seconds"), Ok(60));
    assert_eq!(daily.get_f64("credits"), Ok(400.0));
    assert_eq!(daily.get_f64("costPerMinute"), Ok(400.0));
    assert_eq!(daily.get_f64("averageLatency"), Ok(200.0));
    assert_eq!(daily.get_f64("money"), Ok(400.0 * 220.0 / 1_000_000.0));
    let monthly = get(&world, "user_usage_monthly", &format!("{user}:{month}"))
        .await
        .expect("month");
    assert_eq!(monthly.get_i32("conversations"), Ok(2));
    assert_eq!(monthly.get_i64("seconds"), Ok(90));
    assert_eq!(monthly.get_f64("credits"), Ok(600.0));
    assert_eq!(monthly.get_f64("costPerMinute"), Ok(400.0));
    assert_eq!(monthly.get_f64("averageLatency"), Ok(300.0));

    let stats = get(&world, "agent_stats", agent.as_str())
        .await
        .expect("agent stats");
    assert_eq!(stats.get_i32("calls"), Ok(2));
    assert_eq!(stats.get_f64("successRate"), Ok(0.5));
    assert_eq!(stats.get_f64("averageDuration"), Ok(45.0));
    assert_eq!(stats.get_f64("credits"), Ok(600.0));
    let latency = stats.get_document("latency").expect("latency");
    let near = |key: &str, exact: f64| {
        let got = latency.get_f64(key).expect(key);
        assert!(
            (got - exact).abs() / exact < 0.02,
            "{key}: {got} vs {exact}"
        );
    };
    // Of the five turns (100..=500 ms) merged from both calls; a quantile
    // is the value at rank ⌊q·(n−1)⌋, within the sketch's 1%.
    near("p50", 300.0);
    near("p90", 400.0);
    near("p99", 400.0);
    assert_eq!(latency.get("turns"), Some(&Bson::Int64(5)));
    assert!(get(&world, "agent_stats", "unknown").await.is_none());
    world.finish().await;
}
