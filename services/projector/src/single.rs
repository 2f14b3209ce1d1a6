//! One conversation rebuilt from its own events and put in place of its
//! live document: its subject of CONVERSATIONS (`conv.<id>`) and its
//! user's subject of LEDGER are replayed, folded as a rebuild folds, and
//! written so that readers see the old document or the new one, never a
//! half-built one: its overflow messages are upserted first (under their
//! stable ids), then the document is replaced in one write, then overflow
//! messages it no longer has are deleted and its rollups refreshed.
//!
//! The replacement only lands while the live document has applied no more
//! than the rebuilt one; when the live projector got ahead meanwhile, the
//! conversation is replayed again.

use events::{AccountId, ConversationId};
use eventstore::{EventStore, LogMessage, ReplayFrom, StreamName};
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};

use crate::config::Tuning;
use crate::document::ConversationDoc;
use crate::error::Error;
use crate::fold::{Decoded, Fold};
use crate::overflow;
use crate::rollup::{Rollups, Touched};
use crate::store::{Conversations, DUPLICATE_KEY, check_write_errors, matched, oid};

/// Replays before giving up on a conversation the live projector keeps changing.
const MAX_ATTEMPTS: usize = 8;

/// What rebuilding one conversation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// Events of the conversation replayed (the last attempt's).
    pub events: u64,
    /// Overflow messages it has.
    pub overflow: u64,
}

/// Rebuilds conversation `id` in `db`'s live collections; `None` when the
/// log holds no event of it.
pub async fn rebuild_conversation(
    store: &EventStore,
    db: &mongodb::Database,
    tuning: &Tuning,
    id: ConversationId,
) -> Result<Option<Replaced>, Error> {
    let target = Conversations::live(db);
    for _ in 0..MAX_ATTEMPTS {
        let Some((doc, events)) = fold_one(store, tuning, id).await? else {
            return Ok(None);
        };
        if let Some(overflow) = replace(&target, tuning, id, doc).await? {
            tracing::info!(conversation_id = %id, events, "conversation rebuilt");
            return Ok(Some(Replaced { events, overflow }));
        }
    }
    Err(Error::Contended {
        id,
        attempts: MAX_ATTEMPTS,
    })
}

/// The conversation's document folded from its events, and how many.
async fn fold_one(
    store: &EventStore,
    tuning: &Tuning,
    id: ConversationId,
) -> Result<Option<(ConversationDoc, u64)>, Error> {
    let mut fold = Fold::of_one(tuning, id);
    let own = read(store, StreamName::Conversations, Some(format!("conv.{id}"))).await?;
    let mut events = count(own.len());
    fold.apply(decode(StreamName::Conversations, &own));
    // Its charges are on its user's account; without a conversation event
    // naming the user, every account is read.
    let subject = fold
        .user()
        .map(|user| format!("ledger.{}", AccountId::User(user)));
    let ledger: Vec<Decoded> = decode(
        StreamName::Ledger,
        &read(store, StreamName::Ledger, subject).await?,
    )
    .into_iter()
    .filter(|d| d.concerns(id))
    .collect();
    events = events.saturating_add(count(ledger.len()));
    fold.apply(ledger);
    Ok(fold.into_document().map(|doc| (doc, events)))
}

async fn read(
    store: &EventStore,
    stream: StreamName,
    subject: Option<String>,
) -> Result<Vec<LogMessage>, Error> {
    Ok(match subject {
        Some(subject) => {
            store
                .replay_subject(stream, &subject, ReplayFrom::Beginning)
                .await?
                .try_collect()
                .await?
        }
        None => {
            store
                .replay(stream, ReplayFrom::Beginning)
                .await?
                .try_collect()
                .await?
        }
    })
}

fn decode(stream: StreamName, messages: &[LogMessage]) -> Vec<Decoded> {
    messages.iter().map(|m| Decoded::of(stream, m)).collect()
}

/// Puts `doc` in place; `None` when the live document has applied more
/// (replay again), else the overflow messages written.
async fn replace(
    target: &Conversations,
    tuning: &Tuning,
    id: ConversationId,
    mut doc: ConversationDoc,
) -> Result<Option<u64>, Error> {
    let key = oid(id);
    let db = target.database();
    let ops = std::mem::take(&mut doc.pending.overflow);
    let messages = overflow::materialize(key, &ops)?;
    let kept: Vec<Bson> = messages
        .iter()
        .filter_map(|m| m.get("_id").cloned())
        .collect();
    let upserts: Vec<Document> = messages
        .into_iter()
        .map(|m| {
            let filter = doc! { "_id": m.get("_id").cloned().unwrap_or(Bson::Null) };
            doc! { "q": filter, "u": m, "upsert": true }
        })
        .collect();
    for slice in upserts.chunks(500) {
        let reply = db
            .run_command(
                doc! { "update": target.messages_name(), "updates": slice, "ordered": false },
            )
            .await?;
        check_write_errors(&reply, |_| false)?;
    }
    let before = target.load_many(&[id]).await?.remove(&key);
    let after = doc.to_bson()?;
    let reply = db
        .run_command(doc! {
            "update": target.name(),
            "updates": [{
                "q": {
                    "_id": key,
                    "projection.conversationSeq": { "$lte": doc.projection.conversation_seq },
                    "projection.ledgerSeq": { "$lte": doc.projection.ledger_seq },
                },
                "u": after.clone(),
            }],
        })
        .await?;
    check_write_errors(&reply, |_| false)?;
    if matched(&reply) == 0 {
        if before.is_some() {
            return Ok(None);
        }
        let inserted = db
            .run_command(doc! { "insert": target.name(), "documents": [after.clone()] })
            .await?;
        if !check_write_errors(&inserted, |code| code == DUPLICATE_KEY)?.is_empty() {
            return Ok(None);
        }
    }
    db.collection::<Document>(target.messages_name())
        .delete_many(doc! { "conversationId": key, "_id": { "$nin": kept.clone() } })
        .await?;
    let mut touched = Touched::default();
    if let Some(before) = &before {
        touched.note(before);
    }
    touched.note(&after);
    Rollups::new(db, target.names(), tuning.usd_per_million_credits)
        .refresh(&touched)
        .await?;
    Ok(Some(count(kept.len())))
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
