//! The service: answers `cmd.session.start` and `cmd.session.record`, runs
//! one task per live call, and stops them all on shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bus::LiveSender;
use elevenlabs::{RestClient, RetryPolicy};
use events::command::{
    HoldCredits, HoldPlaced, Refusal, RefusalCode, Reply, SessionStarted, StartSession, subject,
};
use events::conversation::{ConversationMode, Failed, FailureReason, Requested};
use events::{ConversationEvent, ConversationId};
use eventstore::EventStore;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Error;
use crate::config::Config;
use crate::fold::Facts;
use crate::log::{ConversationLog, Party};
use crate::record;
use crate::recovery;
use crate::relay::Call;
use crate::sweep;

/// How long the ledger may take to answer a hold.
const LEDGER_TIMEOUT: Duration = Duration::from_secs(5);

/// What every call task shares.
pub struct Shared {
    pub config: Config,
    pub store: EventStore,
    pub rest: RestClient,
    pub cancel: CancellationToken,
    live: AtomicUsize,
    pub tasks: TaskTracker,
}

/// Runs the session service until `shutdown` completes; live calls are
/// then closed (1001 to the client) and recorded as `session_lost`.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let store = EventStore::connect(&config.nats_url).await?;
    store.ensure_streams().await?;
    let rest = RestClient::new(
        config.endpoints.clone(),
        config.api_key.clone(),
        RetryPolicy::default(),
    )
    .map_err(Error::ElevenLabs)?;
    let shared = Arc::new(Shared {
        config,
        store: store.clone(),
        rest,
        cancel: CancellationToken::new(),
        live: AtomicUsize::new(0),
        tasks: TaskTracker::new(),
    });
    let suspects = recover(&shared).await?;
    shared
        .tasks
        .spawn(sweep::run(Arc::clone(&shared), suspects));
    let mut requests = store
        .client()
        .queue_subscribe(subject::SESSION_START, "session".to_owned())
        .await
        .map_err(Error::Subscribe)?;
    let mut records = store
        .client()
        .queue_subscribe(subject::SESSION_RECORD, "session".to_owned())
        .await
        .map_err(Error::Subscribe)?;
    tracing::info!(instance = %shared.config.instance, "session ready");
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            request = requests.next() => match request {
                Some(request) => {
                    let shared = Arc::clone(&shared);
                    shared.tasks.clone().spawn(async move { start(shared, request).await });
                }
                None => break,
            },
            request = records.next() => match request {
                Some(request) => {
                    let shared = Arc::clone(&shared);
                    shared.tasks.clone().spawn(record::answer(shared, request));
                }
                None => break,
            },
        }
    }
    shared.cancel.cancel();
    shared.tasks.close();
    shared.tasks.wait().await;
    tracing::info!("session stopped");
    Ok(())
}

/// Finishes what this copy left when it last stopped; returns the other
/// owners with open calls, for the sweeper to watch.
async fn recover(shared: &Arc<Shared>) -> Result<Vec<String>, Error> {
    let me = shared.config.instance.as_str();
    let mut others = Vec::new();
    for (owner, orphan) in recovery::orphans(&shared.store, |_| true).await? {
        if owner == me {
            sweep::finish(shared, orphan).await;
        } else if orphan.unterminated && !others.contains(&owner) {
            others.push(owner);
        }
    }
    Ok(others)
}

/// Answers one `cmd.session.start`.
async fn start(shared: Arc<Shared>, request: async_nats::Message) {
    let reply: Reply<SessionStarted> = open(&shared, &request.payload).await.into();
    bus::answer(shared.store.client(), &request, &reply).await;
}

async fn open(shared: &Arc<Shared>, payload: &[u8]) -> Result<SessionStarted, Refusal> {
    let command: StartSession = serde_json::from_slice(payload).map_err(|e| {
        Refusal::new(
            RefusalCode::InvalidRequest,
            format!("not a StartSession: {e}"),
        )
    })?;
    let live = shared.live.fetch_add(1, Ordering::SeqCst);
    let guard = LiveGuard(Arc::clone(shared));
    if live >= shared.config.max_live {
        return Err(Refusal::new(
            RefusalCode::Busy,
            "too many live conversations; try again shortly",
        ));
    }
    let conversation_id = ConversationId::new();
    let party = Party {
        conversation_id,
        user_id: command.user_id,
        agent_id: command.agent_id.clone(),
        correlation_id: command.correlation_id,
    };
    let unavailable =
        |e: &dyn std::fmt::Display| Refusal::new(RefusalCode::Unavailable, e.to_string());
    let mut log = ConversationLog::new(shared.store.clone(), party.clone(), 0);
    let requested = ConversationEvent::Requested(Requested {
        mode: ConversationMode::Live,
        owner: Some(shared.config.instance.clone()),
    });
    let mut facts = Facts {
        party: Some(party),
        ..Facts::default()
    };
    facts.record(&requested);
    log.append(requested).await.map_err(|e| unavailable(&e))?;
    let placed = match hold(shared, &command, conversation_id).await {
        Ok(placed) => placed,
        Err(refusal) => {
            let failed = ConversationEvent::Failed(Failed {
                reason: FailureReason::Refused,
                message: refusal.message.clone(),
                duration_ms: 0,
            });
            if let Err(e) = log.append(failed).await {
                tracing::error!(%conversation_id, error = %e, "could not record the refusal");
            }
            return Err(refusal);
        }
    };
    let client = shared.store.client().clone();
    let subject_in = subject::live_in(conversation_id);
    let subject_out = subject::live_out(conversation_id);
    let live_in = client
        .subscribe(subject_in.clone())
        .await
        .map_err(|e| unavailable(&e))?;
    let call = Call {
        shared: Arc::clone(shared),
        log,
        facts,
        live_in,
        out: LiveSender::new(client, subject_out.clone()),
        covers_ms: placed.covers_ms,
    };
    shared.tasks.clone().spawn(async move {
        let _guard = guard;
        call.run().await;
    });
    tracing::info!(%conversation_id, correlation_id = %command.correlation_id, "conversation opened");
    Ok(SessionStarted {
        conversation_id,
        subject_in,
        subject_out,
    })
}

/// Asks the ledger to reserve credits for the call.
async fn hold(
    shared: &Shared,
    command: &StartSession,
    conversation_id: ConversationId,
) -> Result<HoldPlaced, Refusal> {
    let request = HoldCredits {
        conversation_id,
        user_id: command.user_id,
        agent_id: command.agent_id.clone(),
        correlation_id: command.correlation_id,
    };
    bus::request(
        shared.store.client(),
        subject::LEDGER_HOLD,
        &request,
        LEDGER_TIMEOUT,
    )
    .await
    .map_err(|e| match e {
        bus::RequestError::Refused { refusal, .. } => refusal,
        other => Refusal::new(RefusalCode::Unavailable, other.to_string()),
    })
}

/// Counts a live call until its task (or its refusal) is done.
struct LiveGuard(Arc<Shared>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}
