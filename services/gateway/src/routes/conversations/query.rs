//! What a read of `conversations` asks, as pure rules: whom the caller may
//! see, the filters and the opaque cursor of a page. Both the dashboard and the ElevenLabs-compatible
//! routes build their MongoDB filters here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use serde::{Deserialize, Serialize};

use crate::auth::{Principal, Role};

/// Largest and default page of a listing.
pub const PAGE_SIZE_MAX: u32 = 100;
pub const PAGE_SIZE_DEFAULT: u32 = 30;
/// Longest text search, so one request cannot ask for an enormous pattern.
pub const SEARCH_MAX_CHARS: usize = 200;

/// Why a parameter was refused; the text names it and what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("page_size must be an integer from 1 to {PAGE_SIZE_MAX}")]
    PageSize,
    #[error("cursor is not one this API issued")]
    Cursor,
    #[error("{name} must be {expected}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
    },
}

/// Whose conversations a read may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Owner(ObjectId),
}

impl Scope {
    /// Conversations whose transcripts the caller may read: an admin
    /// everyone's, anyone else (finance included) only their own.
    pub fn transcripts(principal: &Principal) -> Self {
        match principal.role {
            Role::Admin => Self::All,
            Role::User | Role::Finance => Self::own(principal),
        }
    }

    /// Conversations whose money (ids, times, duration, cost, metrics,
    /// ledger trail) the caller may read: finance and admin everyone's.
    pub fn money(principal: &Principal) -> Self {
        match principal.role {
            Role::Admin | Role::Finance => Self::All,
            Role::User => Self::own(principal),
        }
    }

    fn own(principal: &Principal) -> Self {
        Self::Owner(ObjectId::from_bytes(principal.user_id.bytes()))
    }

    pub fn permits(&self, owner: ObjectId) -> bool {
        match self {
            Self::All => true,
            Self::Owner(me) => *me == owner,
        }
    }
}

/// Where a conversation is, in ElevenLabs' words (the projector's statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Initiated,
    InProgress,
    Processing,
    Done,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::InProgress => "in-progress",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        [
            Self::Initiated,
            Self::InProgress,
            Self::Processing,
            Self::Done,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }
}

/// ElevenLabs' verdict on a call (`analysis.call_successful`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Success,
    Failure,
    Unknown,
}

impl Verdict {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            "unknown" => Some(Self::Unknown),
            _ => None,
        }
    }
}

/// Newest first (the default everywhere) or oldest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    NewestFirst,
    OldestFirst,
}

impl Order {
    /// The sort: start time, then id, so equal start times still page in a
    /// fixed order.
    pub fn sort(self) -> Document {
        let way = match self {
            Self::NewestFirst => -1,
            Self::OldestFirst => 1,
        };
        doc! { "startedAt": way, "_id": way }
    }
}

/// The filters of a listing; every one is optional and they all must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub agent_id: Option<String>,
    /// Any text: a value that is not an ObjectId matches no one, as a
    /// stranger's id matches none of a user's own conversations.
    pub user_id: Option<String>,
    pub status: Option<Status>,
    pub verdict: Option<Verdict>,
    /// Started at or after.
    pub from: Option<DateTime>,
    /// Started before.
    pub to: Option<DateTime>,
    pub min_duration_secs: Option<i32>,
    pub max_duration_secs: Option<i32>,
    pub search: Option<Search>,
}

/// A case-insensitive text search in what was said: the embedded messages,
/// or the conversations whose overflowed messages matched (found first).
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub pattern: String,
    pub overflow_hits: Vec<ObjectId>,
}

impl Search {
    /// The pattern matching `text` literally, case-insensitively.
    pub fn new(text: &str) -> Result<Self, ParamError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > SEARCH_MAX_CHARS {
            return Err(ParamError::Invalid {
                name: "search text",
                expected: "1 to 200 characters",
            });
        }
        Ok(Self {
            pattern: regex::escape(text),
            overflow_hits: Vec::new(),
        })
    }

    /// The `$regex` clause on a message field.
    pub fn regex(&self) -> Document {
        doc! { "$regex": self.pattern.as_str(), "$options": "i" }
    }
}

/// Where the previous page stopped: its last conversation's sort key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub started_at: DateTime,
    pub id: ObjectId,
}

impl Cursor {
    /// `base64url("<millis>:<hex id>")`, opaque to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}:{}",
            self.started_at.timestamp_millis(),
            self.id.to_hex()
        ))
    }

    pub fn decode(text: &str) -> Result<Self, ParamError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| ParamError::Cursor)?;
        let text = String::from_utf8(bytes).map_err(|_| ParamError::Cursor)?;
        let (millis, id) = text.split_once(':').ok_or(ParamError::Cursor)?;
        Ok(Self {
            started_at: DateTime::from_millis(millis.parse().map_err(|_| ParamError::Cursor)?),
            id: ObjectId::parse_str(id).map_err(|_| ParamError::Cursor)?,
        })
    }

    /// The cursor after `document` (one of a page's results).
    pub fn after(document: &Document) -> Option<Self> {
        Some(Self {
            started_at: *document.get_datetime("startedAt").ok()?,
            id: document.get_object_id("_id").ok()?,
        })
    }

    /// Only what sorts after this cursor in `order`.
    fn clause(&self, order: Order) -> Document {
        let beyond = match order {
            Order::NewestFirst => "$lt",
            Order::OldestFirst => "$gt",
        };
        doc! { "$or": [
            { "startedAt": { beyond: self.started_at } },
            { "startedAt": self.started_at, "_id": { beyond: self.id } },
        ] }
    }
}

/// The MongoDB filter of one page: scope, filters and cursor together.
pub fn page_filter(
    scope: Scope,
    filter: &Filter,
    cursor: Option<&Cursor>,
    order: Order,
) -> Document {
    let mut all: Vec<Document> = Vec::new();
    if let Scope::Owner(me) = scope {
        all.push(doc! { "userId": me });
    }
    if let Some(agent) = &filter.agent_id {
        all.push(doc! { "agentId": agent.as_str() });
    }
    if let Some(user) = &filter.user_id {
        let user = ObjectId::parse_str(user).map_or_else(|_| Bson::from(user.as_str()), Bson::from);
        all.push(doc! { "userId": user });
    }
    if let Some(status) = filter.status {
        all.push(doc! { "status": status.as_str() });
    }
    if let Some(verdict) = filter.verdict {
        let field = "metadata.analysis.call_successful";
        all.push(match verdict {
            Verdict::Success => doc! { field: "success" },
            Verdict::Failure => doc! { field: "failure" },
            // What ElevenLabs has not judged counts as unknown too.
            Verdict::Unknown => doc! { field: { "$nin": ["success", "failure"] } },
        });
    }
    if let Some(from) = filter.from {
        all.push(doc! { "startedAt": { "$gte": from } });
    }
    if let Some(to) = filter.to {
        all.push(doc! { "startedAt": { "$lt": to } });
    }
    if let Some(min) = filter.min_duration_secs {
        all.push(doc! { "duration": { "$gte": min } });
    }
    if let Some(max) = filter.max_duration_secs {
        all.push(doc! { "duration": { "$lte": max } });
    }
    if let Some(search) = &filter.search {
        let mut any = vec![doc! { "messages.message": search.regex() }];
        if !search.overflow_hits.is_empty() {
            any.push(doc! { "_id": { "$in": search.overflow_hits.clone() } });
        }
        all.push(doc! { "$or": any });
    }
    if let Some(cursor) = cursor {
        all.push(cursor.clause(order));
    }
    match all.len() {
        0 => Document::new(),
        1 => all.pop().unwrap_or_default(),
        _ => doc! { "$and": all },
    }
}

/// `page_size` as given: absent is the default; anything but 1..=100 is refused.
pub fn page_size(given: Option<&str>) -> Result<u32, ParamError> {
    match given {
        None => Ok(PAGE_SIZE_DEFAULT),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=PAGE_SIZE_MAX).contains(n))
            .ok_or(ParamError::PageSize),
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
