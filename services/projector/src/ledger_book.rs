//! `ledger_entries` and `ledger_accounts`, read generically from any ledger
//! event's `postings` and envelope, so a ledger event type this build does
//! not know (added by a newer ledger) is booked all the same.
//!
//! An entry is one posting with its trail: the event (id, type, stream
//! sequence, correlation and causation ids) and the conversation it names.
//! An account holds `available` (the sum of its postings: what a user can
//! spend), `held` (credits in `system-holds` from events on the user's own
//! subject, i.e. reserved for their calls) and `balance` (both), with the
//! last stream sequence applied: a replayed event is never counted twice.

use std::collections::{BTreeMap, HashMap, HashSet};

use events::{AccountId, Credits, Posting, RawEnvelope, SystemAccount};
use eventstore::LogMessage;
use futures::TryStreamExt;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::{Collection, Database};

use crate::error::Error;
use crate::names::{self, Names};
use crate::store::{DUPLICATE_KEY, check_write_errors, matched};

/// Read-apply-write rounds for accounts other copies keep changing.
const MAX_ATTEMPTS: usize = 16;

/// Why a ledger message cannot be booked.
#[derive(Debug, thiserror::Error)]
pub enum Unbookable {
    #[error("undecodable: {0}")]
    Envelope(#[from] events::DecodeError),
    #[error("postings unreadable: {0}")]
    Postings(#[source] serde_json::Error),
    #[error("postings of {event_type} do not sum to zero")]
    Unbalanced { event_type: String },
}

/// A ledger event's postings with where they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Posted {
    pub sequence: u64,
    /// The account whose subject the event is on.
    pub subject: String,
    pub envelope: RawEnvelope,
    pub postings: Vec<Posting>,
}

impl Posted {
    /// The postings of `message`; none for an event that moves nothing.
    pub fn of(message: &LogMessage) -> Result<Self, Unbookable> {
        let envelope = RawEnvelope::from_json(&message.payload)?;
        let postings: Vec<Posting> = match envelope.data.get("postings") {
            Some(postings) => {
                serde_json::from_value(postings.clone()).map_err(Unbookable::Postings)?
            }
            None => Vec::new(),
        };
        if postings.iter().map(|p| p.credits).sum::<Credits>() != Credits::ZERO {
            return Err(Unbookable::Unbalanced {
                event_type: envelope.event_type,
            });
        }
        let subject = message
            .subject
            .strip_prefix("ledger.")
            .unwrap_or(&envelope.aggregate_id)
            .to_owned();
        Ok(Self {
            sequence: message.sequence,
            subject,
            envelope,
            postings,
        })
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = Document> + '_ {
        let conversation = self
            .envelope
            .data
            .get("conversation_id")
            .and_then(serde_json::Value::as_str);
        self.postings.iter().enumerate().map(move |(leg, posting)| {
            let mut entry = doc! {
                "_id": format!("{}:{leg}", self.sequence),
                "account": posting.account.to_string(),
                "credits": posting.credits.get(),
                "subject": self.subject.as_str(),
                "sequence": seq(self.sequence),
                "eventId": self.envelope.id.to_string(),
                "eventType": self.envelope.event_type.as_str(),
                "correlationId": self.envelope.correlation_id.to_string(),
                "occurredAt": DateTime::from_millis(self.envelope.occurred_at.timestamp_millis()),
            };
            if let Some(cause) = self.envelope.causation_id {
                entry.insert("causationId", cause.to_string());
            }
            if let Some(conversation) = conversation {
                entry.insert("conversationId", conversation);
            }
            entry
        })
    }
}

/// What one account gains from some events.
#[derive(Clone, Copy, Debug, Default)]
struct Delta {
    available: i64,
    held: i64,
    last: i64,
    entries: i64,
}

impl Delta {
    /// The account document of one that gained only this.
    fn new_account(&self, account: &str) -> Document {
        let kind = if account.starts_with("user-") {
            "user"
        } else {
            "system"
        };
        doc! {
            "_id": account,
            "kind": kind,
            "available": self.available,
            "held": self.held,
            "balance": self.available.saturating_add(self.held),
            "entries": self.entries,
            "lastSequence": self.last,
        }
    }
}

/// Accounts booked from nothing, in memory: after every event of a replay
/// (in stream order) is added, [`FreshAccounts::documents`] are the
/// documents [`LedgerBook::book`] would have left.
#[derive(Clone, Debug, Default)]
pub struct FreshAccounts(BTreeMap<String, Delta>);

impl FreshAccounts {
    pub fn add(&mut self, posted: &[Posted]) {
        let accounts: HashSet<String> = posted
            .iter()
            .flat_map(|p| p.postings.iter().map(|l| l.account.to_string()))
            .chain(posted.iter().map(|p| p.subject.clone()))
            .collect();
        for (account, delta) in deltas(posted, &accounts, &HashMap::new()) {
            let total = self.0.entry(account).or_default();
            total.available = total.available.saturating_add(delta.available);
            total.held = total.held.saturating_add(delta.held);
            total.entries = total.entries.saturating_add(delta.entries);
            total.last = total.last.max(delta.last);
        }
    }

    pub fn documents(&self) -> Vec<Document> {
        self.0
            .iter()
            .map(|(account, delta)| delta.new_account(account))
            .collect()
    }
}

/// The ledger collections of one target.
#[derive(Clone, Debug)]
pub struct LedgerBook {
    db: Database,
    entries: Collection<Document>,
    accounts: Collection<Document>,
}

impl LedgerBook {
    pub fn new(db: &Database, names: &Names) -> Self {
        Self {
            db: db.clone(),
            entries: db.collection(&names.of(names::LEDGER_ENTRIES)),
            accounts: db.collection(&names.of(names::LEDGER_ACCOUNTS)),
        }
    }

    /// An account's trail in order, and a conversation's entries.
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        for keys in [
            doc! { "account": 1, "sequence": 1 },
            doc! { "conversationId": 1 },
        ] {
            self.entries
                .create_index(mongodb::IndexModel::builder().keys(keys).build())
                .await?;
        }
        Ok(())
    }

    /// Books `posted` (in stream order): entries first, then each account
    /// once, counting only events after the last it applied.
    pub async fn book(&self, posted: &[Posted]) -> Result<(), Error> {
        let entries: Vec<Document> = posted.iter().flat_map(Posted::entries).collect();
        if entries.is_empty() {
            return Ok(());
        }
        let reply = self
            .db
            .run_command(doc! {
                "insert": self.entries.name(),
                "documents": entries,
                "ordered": false,
            })
            .await?;
        check_write_errors(&reply, |code| code == DUPLICATE_KEY)?;
        let mut pending: HashSet<String> = posted
            .iter()
            .flat_map(|p| p.postings.iter().map(|l| l.account.to_string()))
            .chain(posted.iter().map(|p| p.subject.clone()))
            .collect();
        for _ in 0..MAX_ATTEMPTS {
            if pending.is_empty() {
                return Ok(());
            }
            let stored = self.last_applied(&pending).await?;
            let mut updates = Vec::new();
            let mut inserts = Vec::new();
            let mut expected = Vec::new();
            for (account, delta) in deltas(posted, &pending, &stored) {
                match stored.get(&account) {
                    None => inserts.push(delta.new_account(&account)),
                    Some(last) => {
                        updates.push(doc! {
                            "q": { "_id": account.as_str(), "lastSequence": *last },
                            "u": {
                                "$inc": {
                                    "available": delta.available,
                                    "held": delta.held,
                                    "balance": delta.available.saturating_add(delta.held),
                                    "entries": delta.entries,
                                },
                                "$set": { "lastSequence": delta.last },
                            },
                        });
                    }
                }
                expected.push((account, delta.last));
            }
            let mut raced = HashSet::new();
            if !inserts.is_empty() {
                let ids: Vec<Option<String>> = inserts
                    .iter()
                    .map(|d| d.get_str("_id").ok().map(str::to_owned))
                    .collect();
                let reply = self
                    .db
                    .run_command(doc! {
                        "insert": self.accounts.name(),
                        "documents": inserts,
                        "ordered": false,
                    })
                    .await?;
                for index in check_write_errors(&reply, |code| code == DUPLICATE_KEY)? {
                    if let Some(Some(id)) = ids.get(index) {
                        raced.insert(id.clone());
                    }
                }
            }
            if !updates.is_empty() {
                let statements = updates.len();
                let reply = self
                    .db
                    .run_command(doc! {
                        "update": self.accounts.name(),
                        "updates": updates,
                        "ordered": false,
                    })
                    .await?;
                check_write_errors(&reply, |_| false)?;
                if matched(&reply) < statements {
                    let names: HashSet<String> = expected.iter().map(|(a, _)| a.clone()).collect();
                    let now = self.last_applied(&names).await?;
                    raced.extend(
                        expected
                            .iter()
                            .filter(|(a, last)| now.get(a) < Some(last))
                            .map(|(a, _)| a.clone()),
                    );
                }
            }
            pending = raced;
        }
        Err(Error::WriteRefused {
            code: 0,
            message: format!("ledger accounts still contended: {pending:?}"),
        })
    }

    /// The last sequence each of `accounts` applied (absent: no document).
    async fn last_applied(
        &self,
        accounts: &HashSet<String>,
    ) -> Result<HashMap<String, i64>, Error> {
        let ids: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let found: Vec<Document> = self
            .accounts
            .find(doc! { "_id": { "$in": ids } })
            .projection(doc! { "lastSequence": 1 })
            .await?
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|d| {
                let id = d.get_str("_id").ok()?.to_owned();
                let last = match d.get("lastSequence") {
                    Some(Bson::Int64(n)) => *n,
                    Some(Bson::Int32(n)) => i64::from(*n),
                    _ => 0,
                };
                Some((id, last))
            })
            .collect())
    }
}

/// What each of `accounts` gains from the events of `posted` after the
/// last one it applied.
fn deltas(
    posted: &[Posted],
    accounts: &HashSet<String>,
    stored: &HashMap<String, i64>,
) -> BTreeMap<String, Delta> {
    let holds = AccountId::System(SystemAccount::Holds).to_string();
    let mut deltas: BTreeMap<String, Delta> = BTreeMap::new();
    let mut gain = |account: &str, sequence: i64, available: i64, held: i64, entries: i64| {
        if !accounts.contains(account) || stored.get(account).is_some_and(|&last| sequence <= last)
        {
            return;
        }
        let delta = deltas.entry(account.to_owned()).or_default();
        delta.available = delta.available.saturating_add(available);
        delta.held = delta.held.saturating_add(held);
        delta.entries = delta.entries.saturating_add(entries);
        delta.last = delta.last.max(sequence);
    };
    for event in posted {
        let sequence = seq(event.sequence);
        let mut held = 0_i64;
        for posting in &event.postings {
            let account = posting.account.to_string();
            gain(&account, sequence, posting.credits.get(), 0, 1);
            if account == holds && event.subject != holds {
                held = held.saturating_add(posting.credits.get());
            }
        }
        // The subject's account records the event even when it moved
        // nothing of its own (so its last sequence moves on).
        gain(&event.subject, sequence, 0, held, 0);
    }
    deltas
}

fn seq(sequence: u64) -> i64 {
    i64::try_from(sequence).unwrap_or(i64::MAX)
}
