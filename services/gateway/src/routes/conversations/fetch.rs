//! The reads behind the conversation routes: a page of `conversations`, one
//! document the caller may see, its messages with those kept in
//! `conversation_messages`, and its ledger trail.

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use futures::TryStreamExt;
use mongodb::error::ErrorKind;

use super::query::{Cursor, Filter, Order, Scope, Search, page_filter};
use crate::conversation_ref::ConversationRef;
use crate::error::ApiError;
use crate::reads::Reads;

/// Conversations whose overflowed messages match a search, at most; a
/// search matching more still finds every conversation whose embedded
/// messages match.
const OVERFLOW_HITS_MAX: i64 = 1000;
/// Ledger entries shown with one conversation, at most (a call has a few
/// per minute of talk).
const LEDGER_TRAIL_MAX: i64 = 1000;

/// One page of documents, and where the next one starts.
pub struct Page {
    pub documents: Vec<Document>,
    pub next: Option<Cursor>,
}

/// A MongoDB failure as the client sees it: unreachable is 503, anything
/// else a logged 500.
pub fn mongo_error(error: mongodb::error::Error) -> ApiError {
    match *error.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. } => ApiError::Unavailable("MongoDB"),
        _ => ApiError::internal(error),
    }
}

/// The page of `filter` after `cursor`, `projection` applied.
pub async fn page(
    reads: &Reads,
    scope: Scope,
    mut filter: Filter,
    cursor: Option<&Cursor>,
    order: Order,
    page_size: u32,
    projection: Document,
) -> Result<Page, ApiError> {
    if let Some(search) = filter.search.as_mut() {
        search.overflow_hits = overflow_hits(reads, search).await?;
    }
    let mut documents: Vec<Document> = reads
        .conversations()
        .find(page_filter(scope, &filter, cursor, order))
        .sort(order.sort())
        .limit(i64::from(page_size) + 1)
        .projection(projection)
        .await
        .map_err(mongo_error)?
        .try_collect()
        .await
        .map_err(mongo_error)?;
    let more = documents.len() > page_size as usize;
    documents.truncate(page_size as usize);
    let next = if more {
        documents.last().and_then(Cursor::after)
    } else {
        None
    };
    Ok(Page { documents, next })
}

/// The conversations whose overflowed messages match `search`.
pub async fn overflow_hits(reads: &Reads, search: &Search) -> Result<Vec<ObjectId>, ApiError> {
    let groups: Vec<Document> = reads
        .conversation_messages()
        .aggregate([
            doc! { "$match": { "message": search.regex() } },
            doc! { "$group": { "_id": "$conversationId" } },
            doc! { "$limit": OVERFLOW_HITS_MAX },
        ])
        .await
        .map_err(mongo_error)?
        .try_collect()
        .await
        .map_err(mongo_error)?;
    Ok(groups
        .iter()
        .filter_map(|g| g.get_object_id("_id").ok())
        .collect())
}

/// The document `reference` names, if the caller may see it: another
/// user's conversation is as absent as one that does not exist.
pub async fn one(
    reads: &Reads,
    scope: Scope,
    reference: &ConversationRef,
) -> Result<Option<Document>, ApiError> {
    let found = reads
        .conversations()
        .find_one(reference.filter())
        .await
        .map_err(mongo_error)?;
    Ok(found.filter(|d| {
        d.get_object_id("userId")
            .is_ok_and(|owner| scope.permits(owner))
    }))
}

/// Every message of `document` in order: the embedded ones, then those kept
/// in `conversation_messages`.
pub async fn messages(reads: &Reads, document: &Document) -> Result<Vec<Document>, ApiError> {
    let mut messages: Vec<Document> = document
        .get_array("messages")
        .map(|all| {
            all.iter()
                .filter_map(|m| match m {
                    Bson::Document(m) => Some(m.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let overflowed = document
        .get_document("metadata")
        .ok()
        .and_then(|m| m.get_document("messages_overflow").ok())
        .is_some();
    if overflowed {
        let id = document.get_object_id("_id").map_err(ApiError::internal)?;
        let more: Vec<Document> = reads
            .conversation_messages()
            .find(doc! { "conversationId": id })
            .sort(doc! { "index": 1 })
            .await
            .map_err(mongo_error)?
            .try_collect()
            .await
            .map_err(mongo_error)?;
        messages.extend(more);
    }
    Ok(messages)
}

/// The ledger entries that name conversation `id`, in stream order.
pub async fn ledger_trail(reads: &Reads, id: ObjectId) -> Result<Vec<Document>, ApiError> {
    reads
        .ledger_entries()
        .find(doc! { "conversationId": id.to_hex() })
        .sort(doc! { "sequence": 1, "_id": 1 })
        .limit(LEDGER_TRAIL_MAX)
        .await
        .map_err(mongo_error)?
        .try_collect()
        .await
        .map_err(mongo_error)
}
