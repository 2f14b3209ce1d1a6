//! Closing the calls of session copies that stopped (DESIGN §5: a surviving
//! copy closes the calls of a copy that stopped).
//!
//! Every copy says it is alive on `session.alive.<instance>` once per
//! heartbeat interval. A copy that hears nothing from another for the owner
//! timeout closes that copy's open calls as `session_lost` and fetches their
//! cost. Owners of open calls found at start are given the same timeout to
//! be heard. When several survivors sweep the same owner, each append
//! expects the version it read, so one closes each call and the others
//! see a conflict and leave it.

use std::collections::HashMap;
use std::sync::Arc;

use bus::live::HEARTBEAT_INTERVAL;
use futures::StreamExt;
use tokio::time::{Instant, MissedTickBehavior};

use crate::recovery::{self, Orphan};
use crate::service::Shared;

const ALIVE: &str = "session.alive";

/// Runs until the service stops. `suspects`: owners of open calls found at start.
pub async fn run(shared: Arc<Shared>, suspects: Vec<String>) {
    let client = shared.store.client().clone();
    let me = shared.config.instance.clone();
    let mut alive = match client.subscribe(format!("{ALIVE}.*")).await {
        Ok(alive) => alive,
        Err(error) => {
            tracing::error!(%error, "cannot hear other session copies; nobody is swept");
            return;
        }
    };
    let started = Instant::now();
    let mut heard: HashMap<String, Instant> = suspects.into_iter().map(|o| (o, started)).collect();
    let mut tick = tokio::time::interval(HEARTBEAT_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shared.cancel.cancelled() => return,
            message = alive.next() => {
                let Some(message) = message else { return };
                if let Some(instance) = message.subject.strip_prefix(ALIVE).and_then(|s| s.strip_prefix('.')) {
                    heard.insert(instance.to_owned(), Instant::now());
                }
            }
            _ = tick.tick() => {
                let subject = format!("{ALIVE}.{me}");
                if let Err(error) = client.publish(subject, bytes::Bytes::new()).await {
                    tracing::warn!(%error, "could not say this copy is alive");
                }
                let timeout = shared.config.owner_timeout;
                let stopped: Vec<String> = heard
                    .iter()
                    .filter(|(owner, at)| **owner != me && at.elapsed() > timeout)
                    .map(|(owner, _)| owner.clone())
                    .collect();
                for owner in stopped {
                    heard.remove(&owner);
                    sweep(&shared, &owner).await;
                }
            }
        }
    }
}

/// Closes what `owner` left open and fetches the costs it never recorded.
async fn sweep(shared: &Arc<Shared>, owner: &str) {
    let orphans = match recovery::orphans(&shared.store, |o| o == owner).await {
        Ok(orphans) => orphans,
        Err(error) => {
            tracing::error!(owner, %error, "could not read the calls of a stopped copy");
            return;
        }
    };
    if !orphans.is_empty() {
        tracing::warn!(
            owner,
            calls = orphans.len(),
            "a session copy stopped; closing its calls"
        );
    }
    for (_, orphan) in orphans {
        finish(shared, orphan).await;
    }
}

/// Closes one orphan (if it never ended) and fetches its cost in the background.
pub async fn finish(shared: &Arc<Shared>, mut orphan: Orphan) {
    let conversation_id = orphan.log.party().conversation_id;
    if let Err(error) = orphan.close_if_unterminated(shared.store.client()).await {
        // A conflict: another survivor, or the owner itself, wrote first.
        tracing::info!(%conversation_id, %error, "left the call to whoever wrote first");
        return;
    }
    let Some(elevenlabs_id) = orphan.elevenlabs_id else {
        return;
    };
    let task = Arc::clone(shared);
    let log = orphan.log;
    shared.tasks.clone().spawn(async move {
        let config = &task.config;
        crate::postcall::report(
            &task.rest,
            log.store(),
            log.party(),
            &elevenlabs_id,
            config.cost_timeout,
            config.cost_poll,
            &task.cancel,
        )
        .await;
    });
}
