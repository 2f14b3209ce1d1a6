//! `Book`: the state behind a lock, and the one way it changes — decide,
//! append to the user's account with the version decided on, apply. On a
//! conflict (another copy wrote first) it reloads that account and decides again.

use events::command::{Refusal, RefusalCode};
use events::ledger::LedgerEvent;
use events::{AccountId, CorrelationId, DomainEvent, Envelope, EnvelopeMeta, EventId};
use eventstore::{EventStore, ExpectedVersion, ReplayFrom, StreamName};
use futures::TryStreamExt;
use tokio::sync::Mutex;

use crate::account::State;
use crate::decide::{Command, decide};
use crate::pricing::Pricing;

/// Decide-append rounds before a command gives up; each lost round means
/// another writer appended to the same account in between.
pub const MAX_ATTEMPTS: usize = 8;

/// Why a command did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error("refused: {}", .0.message)]
    Refused(Refusal),
    #[error(transparent)]
    Log(#[from] eventstore::Error),
    #[error("gave up after {MAX_ATTEMPTS} conflicting appends")]
    Contended,
}

impl ExecuteError {
    /// The reply a requester gets.
    pub fn into_refusal(self) -> Refusal {
        match self {
            Self::Refused(refusal) => refusal,
            other => Refusal::new(RefusalCode::Unavailable, other.to_string()),
        }
    }
}

/// Where a command came from, copied onto the events it produces.
#[derive(Clone, Copy, Debug)]
pub struct Cause {
    pub correlation_id: CorrelationId,
    pub causation_id: Option<EventId>,
}

pub struct Book {
    store: EventStore,
    pricing: Pricing,
    state: Mutex<State>,
}

impl Book {
    pub fn new(store: EventStore, pricing: Pricing) -> Self {
        Self {
            store,
            pricing,
            state: Mutex::new(State::default()),
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Reads the whole LEDGER stream into the state; returns the last
    /// sequence read (0 when empty), where following the stream continues.
    pub async fn replay(&self) -> Result<u64, eventstore::Error> {
        let messages = self
            .store
            .replay(StreamName::Ledger, ReplayFrom::Beginning)
            .await?;
        let mut messages = std::pin::pin!(messages);
        let mut last = 0;
        let mut applied = 0usize;
        let mut state = self.state.lock().await;
        while let Some(message) = messages.try_next().await? {
            last = message.sequence;
            match message.decode::<LedgerEvent>() {
                Ok(envelope) => applied += usize::from(state.apply(message.sequence, &envelope)),
                Err(error) => tracing::error!(
                    sequence = message.sequence,
                    %error,
                    "undecodable ledger event skipped in replay"
                ),
            }
        }
        tracing::info!(applied, last_sequence = last, "ledger state rebuilt");
        Ok(last)
    }

    /// Applies one event read from the log (another copy's, or our own echoed).
    pub async fn apply(&self, sequence: u64, envelope: &Envelope<LedgerEvent>) -> bool {
        self.state.lock().await.apply(sequence, envelope)
    }

    /// Reads the state under the lock.
    pub async fn read<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&*self.state.lock().await)
    }

    /// Decides `command`, appends what it produced, applies it, and returns
    /// `answer` on the resulting state. Exactly-once comes from here: the
    /// append expects the account's version the decision was made on.
    pub async fn execute<T>(
        &self,
        command: &Command,
        cause: Cause,
        answer: impl FnOnce(&State) -> T,
    ) -> Result<T, ExecuteError> {
        let account = AccountId::User(command.user());
        let mut state = self.state.lock().await;
        for _ in 0..MAX_ATTEMPTS {
            let events = decide(&state, &self.pricing, command).map_err(ExecuteError::Refused)?;
            if events.is_empty() {
                return Ok(answer(&state));
            }
            let version = state.version(account);
            let envelopes = envelopes(account, command, cause, events);
            match self
                .store
                .append(account, ExpectedVersion::Exact(version), &envelopes)
                .await
            {
                Ok(appended) if appended.duplicates == 0 => {
                    for envelope in &envelopes {
                        tracing::info!(
                            event = envelope.event.event_type(),
                            account = %account,
                            "ledger event appended"
                        );
                    }
                    state.apply_appended(account, appended.version, &envelopes);
                    debug_assert_eq!(state.total(), events::Credits::ZERO);
                    return Ok(answer(&state));
                }
                // Already stored (a retried grant id): this state is behind.
                Ok(_) => self.reload(&mut state, account).await?,
                Err(eventstore::Error::Conflict { expected, actual }) => {
                    tracing::debug!(%account, expected, actual, "conflict; deciding again");
                    self.reload(&mut state, account).await?;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(ExecuteError::Contended)
    }

    /// Brings one account up to date from the log.
    async fn reload(&self, state: &mut State, account: AccountId) -> Result<(), ExecuteError> {
        let loaded = self.store.load::<LedgerEvent>(account).await?;
        for stored in &loaded.events {
            state.apply(stored.sequence, &stored.envelope);
        }
        Ok(())
    }
}

/// The envelopes of `events` decided for `command` on `account`.
pub(crate) fn envelopes(
    account: AccountId,
    command: &Command,
    cause: Cause,
    events: Vec<LedgerEvent>,
) -> Vec<Envelope<LedgerEvent>> {
    events
        .into_iter()
        .map(|event| {
            let mut meta = EnvelopeMeta::new(account.to_string(), cause.correlation_id)
                .for_user(command.user());
            meta.causation_id = cause.causation_id;
            // A grant's event id is its grant id: the log dedupes a retry
            // and the state remembers it for good.
            if let (Command::Grant { grant_id, .. }, LedgerEvent::CreditsGranted(_)) =
                (command, &event)
            {
                meta.id = *grant_id;
            }
            Envelope::new(meta, event)
        })
        .collect()
}
