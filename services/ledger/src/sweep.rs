//! The expiry timer: a shell around [`expiry::due`] (holds) and
//! [`grant::due`] (expiring grants) that supplies the clock. Every copy
//! sweeps; the append's expected version lets only one book an expiry, and
//! the others then decide nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use events::CorrelationId;
use futures::future::join_all;

use crate::book::{Book, Cause};
use crate::decide::Command;
use crate::{expiry, grant};

/// Sweeps at least this often, so a hold outlives its TTL by at most this much.
pub const MAX_INTERVAL: Duration = Duration::from_secs(30);
/// And at most this often, however short the TTL.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// A quarter of the TTL, within [`MIN_INTERVAL`]..=[`MAX_INTERVAL`].
pub fn interval(ttl_ms: u64) -> Duration {
    Duration::from_millis(ttl_ms / 4).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Releases expired holds and ends expired grants, forever.
pub async fn run(book: Arc<Book>) {
    let mut ticks = tokio::time::interval(interval(book.pricing().ttl_ms()));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Utc::now();
        let (holds, grants) = book.read(|state| {
            (
                expiry::due(state, book.pricing(), now),
                grant::due(state, now),
            )
        });
        join_all(holds.into_iter().map(|due| expire(&book, due, now))).await;
        join_all(
            grants
                .into_iter()
                .map(|(user, grant_id)| expire_grant(&book, user, grant_id, now)),
        )
        .await;
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

async fn expire_grant(
    book: &Book,
    user: events::UserId,
    grant_id: events::EventId,
    now: chrono::DateTime<Utc>,
) {
    let correlation_id = CorrelationId::new();
    let command = Command::ExpireGrant {
        user,
        grant_id,
        now,
    };
    let cause = Cause {
        correlation_id,
        causation_id: Some(grant_id),
    };
    match book.execute(&command, cause, |_| ()).await {
        Ok(()) => tracing::info!(user_id = %user, %grant_id, %correlation_id, "grant expired"),
        Err(error) => tracing::warn!(
            user_id = %user,
            %grant_id,
            %correlation_id,
            %error,
            "grant could not be expired"
        ),
    }
}
