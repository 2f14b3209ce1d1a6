//! The hold-expiry timer: a shell around [`expiry::due`] that supplies the
//! clock. Every copy sweeps; the append's expected version lets only one
//! release a hold, and the others then decide nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use events::CorrelationId;
use futures::future::join_all;

use crate::book::{Book, Cause};
use crate::decide::Command;
use crate::expiry;

/// Sweeps at least this often, so a hold outlives its TTL by at most this much.
pub const MAX_INTERVAL: Duration = Duration::from_secs(30);
/// And at most this often, however short the TTL.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// A quarter of the TTL, within [`MIN_INTERVAL`]..=[`MAX_INTERVAL`].
pub fn interval(ttl_ms: u64) -> Duration {
    Duration::from_millis(ttl_ms / 4).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Releases expired holds, forever.
pub async fn run(book: Arc<Book>) {
    let mut ticks = tokio::time::interval(interval(book.pricing().ttl_ms()));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Utc::now();
        let due = book.read(|state| expiry::due(state, book.pricing(), now));
        join_all(due.into_iter().map(|due| expire(&book, due, now))).await;
    }
}

async fn expire(book: &Book, due: expiry::Due, now: chrono::DateTime<Utc>) {
    let correlation_id = CorrelationId::new();
    let command = Command::Expire {
        user: due.user,
        conversation: due.conversation,
        now,
    };
    let cause = Cause {
        correlation_id,
        causation_id: Some(due.cause),
    };
    match book.execute(&command, cause, |_| ()).await {
        Ok(()) => tracing::info!(
            conversation_id = %due.conversation,
            user_id = %due.user,
            %correlation_id,
            "hold expired"
        ),
        // The next sweep tries again.
        Err(error) => tracing::warn!(
            conversation_id = %due.conversation,
            user_id = %due.user,
            %correlation_id,
            %error,
            "hold could not be expired"
        ),
    }
}
