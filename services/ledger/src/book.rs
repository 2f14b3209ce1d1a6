//! `Book`: the state, and the one way it changes — decide, append to the
//! user's account with the version decided on, apply. On a conflict
//! (another copy wrote first) it reloads that account and decides again.
//!
//! The state sits behind a plain mutex that is never held across an
//! await: deciding and applying are pure and quick, the append is not.
//! Commands for one account take turns (an async lock per account), so a
//! copy never conflicts with itself; commands for different accounts
//! append concurrently.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use events::command::{Refusal, RefusalCode};
use events::ledger::LedgerEvent;
use events::{AccountId, CorrelationId, DomainEvent, Envelope, EnvelopeMeta, EventId};
use eventstore::{EventStore, ExpectedVersion, ReplayFrom, StreamName};
use futures::TryStreamExt;

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

/// One account's turn to write in this copy.
type Turn = Arc<tokio::sync::Mutex<()>>;

pub struct Book {
    store: EventStore,
    pricing: Pricing,
    state: Mutex<State>,
    turns: Mutex<HashMap<AccountId, Turn>>,
}

/// How one decided append ended.
enum Appended {
    Done,
    /// The log holds more of this account than the state: reload, decide again.
    Behind,
}

impl Book {
    pub fn new(store: EventStore, pricing: Pricing) -> Self {
        Self {
            store,
            pricing,
            state: Mutex::new(State::default()),
            turns: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn pricing(&self) -> &Pricing {
        &self.pricing
    }

    /// The state, for a short synchronous look; never held across an await.
    fn state(&self) -> MutexGuard<'_, State> {
        // `apply` asserts double entry; a panic there leaves a state that
        // is still the last consistent one, so reading on is sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
        while let Some(message) = messages.try_next().await? {
            last = message.sequence;
            match message.decode::<LedgerEvent>() {
                Ok(envelope) => {
                    applied += usize::from(self.state().apply(message.sequence, &envelope));
                }
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
    pub fn apply(&self, sequence: u64, envelope: &Envelope<LedgerEvent>) -> bool {
        self.state().apply(sequence, envelope)
    }

    /// Reads the state.
    pub fn read<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&self.state())
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
        let turn = self.turn(account);
        let result = async {
            let _turn = turn.lock().await;
            for _ in 0..MAX_ATTEMPTS {
                let (events, version) = {
                    let state = self.state();
                    let events =
                        decide(&state, &self.pricing, command).map_err(ExecuteError::Refused)?;
                    (events, state.version(account))
                };
                if events.is_empty() {
                    return Ok(());
                }
                let envelopes = envelopes(account, command, cause, events);
                match self.append(account, version, &envelopes).await? {
                    Appended::Done => return Ok(()),
                    Appended::Behind => self.reload(account).await?,
                }
            }
            Err(ExecuteError::Contended)
        }
        .await;
        self.end_turn(account, turn);
        result.map(|()| answer(&self.state()))
    }

    /// Appends `envelopes` one after the other from `version`, applying
    /// each at the sequence the log gave it, so the tail echoing the same
    /// event meanwhile cannot apply it twice.
    async fn append(
        &self,
        account: AccountId,
        mut version: u64,
        envelopes: &[Envelope<LedgerEvent>],
    ) -> Result<Appended, ExecuteError> {
        for envelope in envelopes {
            match self
                .store
                .append(
                    account,
                    ExpectedVersion::Exact(version),
                    std::slice::from_ref(envelope),
                )
                .await
            {
                Ok(appended) if appended.duplicates == 0 => {
                    tracing::info!(
                        event = envelope.event.event_type(),
                        account = %account,
                        sequence = appended.version,
                        "ledger event appended"
                    );
                    self.apply(appended.version, envelope);
                    version = appended.version;
                }
                // Already stored (a retried grant id): this state is behind.
                Ok(_) => return Ok(Appended::Behind),
                Err(eventstore::Error::Conflict { expected, actual }) => {
                    tracing::debug!(%account, expected, actual, "conflict; deciding again");
                    return Ok(Appended::Behind);
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(Appended::Done)
    }

    /// Brings one account up to date from the log.
    async fn reload(&self, account: AccountId) -> Result<(), ExecuteError> {
        let loaded = self.store.load::<LedgerEvent>(account).await?;
        let mut state = self.state();
        for stored in &loaded.events {
            state.apply(stored.sequence, &stored.envelope);
        }
        Ok(())
    }

    fn turns(&self) -> MutexGuard<'_, HashMap<AccountId, Turn>> {
        self.turns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn turn(&self, account: AccountId) -> Turn {
        Arc::clone(self.turns().entry(account).or_default())
    }

    /// Forgets an account's turn once nobody else waits for it, so the map
    /// holds only accounts being written now. Turns are only cloned under
    /// the map's lock, so the count cannot grow while it is checked.
    fn end_turn(&self, account: AccountId, turn: Turn) {
        let mut turns = self.turns();
        drop(turn);
        if turns
            .get(&account)
            .is_some_and(|t| Arc::strong_count(t) == 1)
        {
            turns.remove(&account);
        }
    }
}

/// The envelopes of `events` decided for `command` on `account`.
pub(crate) fn envelopes(
    account: AccountId,
    command: &Command,
    cause: Cause,
    events: Vec<LedgerEvent>,
) -> Vec<Envelope<LedgerEvent>> {
    let mut charge = None;
    events
        .into_iter()
        .map(|mut event| {
            let mut meta = EnvelopeMeta::new(account.to_string(), cause.correlation_id)
                .for_user(command.user());
            meta.causation_id = cause.causation_id;
            // A grant's or correction's event id is its own id: the log
            // dedupes a retry and the state remembers it for good.
            match (command, &event) {
                (Command::Grant { grant_id, .. }, LedgerEvent::CreditsGranted(_)) => {
                    meta.id = *grant_id;
                }
                (Command::Correct { correction, .. }, LedgerEvent::CreditsCorrected(_)) => {
                    meta.id = correction.id;
                }
                _ => {}
            }
            // An adjustment decided together with the charge it corrects
            // links to it here, where the charge gets its id.
            match &mut event {
                LedgerEvent::HoldCaptured(_) => charge = Some(meta.id),
                LedgerEvent::UsageCharged(_) if charge.is_none() => charge = Some(meta.id),
                LedgerEvent::ChargeAdjusted(adjusted) if adjusted.detail.corrects.is_none() => {
                    adjusted.detail.corrects = charge;
                }
                _ => {}
            }
            Envelope::new(meta, event)
        })
        .collect()
}
