//! Per-user usage by UTC day and month, and per-agent statistics, derived
//! from the `conversations` documents a batch touched. Each touched key is
//! recomputed whole from its conversations (never incremented), so a
//! replayed batch, a second copy or a rebuild yields the same documents;
//! a key no conversation belongs to any more is deleted. Each document
//! records what it reflects in `asOf`: the highest sequences its
//! conversations applied.
//!
//! The cost is a read of the touched keys' conversations per batch, which
//! stays small because a batch touches the users and agents of recent calls.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime as ChronoTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, RawDocument, RawDocumentBuf, doc};
use mongodb::{Collection, Database};

use crate::error::Error;
use crate::metrics::cost_per_minute;
use crate::names::{self, Names};
use crate::store::check_write_errors;

mod agent;
mod keys;

use agent::AgentFigures;
pub use keys::{Day, Touched};

/// USD per million credits (`PARLOR_USD_PER_MILLION_CREDITS`): ElevenLabs'
/// Creator tier, $22 for 100,000 credits.
pub const DEFAULT_USD_PER_MILLION_CREDITS: f64 = 220.0;

/// The rollup collections of one target.
#[derive(Clone, Debug)]
pub struct Rollups {
    db: Database,
    conversations: Collection<Document>,
    daily: Collection<Document>,
    monthly: Collection<Document>,
    agents: Collection<Document>,
    usd_per_million_credits: f64,
}

/// Sums over some conversations.
#[derive(Clone, Debug, Default)]
pub(crate) struct Usage {
    pub(crate) conversations: i32,
    pub(crate) seconds: i64,
    pub(crate) credits: f64,
    latency_sum_ms: i64,
    pub(crate) latency_turns: i64,
    conversation_seq: i64,
    ledger_seq: i64,
}

impl Usage {
    pub(crate) fn add(&mut self, conversation: &Document) {
        let book = conversation.get_document("projection").ok();
        let seq = |key| book.and_then(|b| b.get_i64(key).ok()).unwrap_or(0);
        self.conversations = self.conversations.saturating_add(1);
        self.seconds = self
            .seconds
            .saturating_add(i64::from(conversation.get_i32("duration").unwrap_or(0)));
        self.credits += conversation.get_f64("cost").unwrap_or(0.0);
        self.latency_sum_ms = self.latency_sum_ms.saturating_add(seq("latencySumMs"));
        self.latency_turns = self.latency_turns.saturating_add(seq("latencyTurns"));
        self.conversation_seq = self.conversation_seq.max(seq("conversationSeq"));
        self.ledger_seq = self.ledger_seq.max(seq("ledgerSeq"));
    }

    pub(crate) fn as_of(&self) -> Document {
        doc! { "conversationSeq": self.conversation_seq, "ledgerSeq": self.ledger_seq }
    }

    pub(crate) fn average_latency(&self) -> f64 {
        if self.latency_turns <= 0 {
            0.0
        } else {
            self.latency_sum_ms as f64 / self.latency_turns as f64
        }
    }
}

impl Rollups {
    pub fn new(db: &Database, names: &Names, usd_per_million_credits: f64) -> Self {
        Self {
            db: db.clone(),
            conversations: db.collection(&names.of(names::CONVERSATIONS)),
            daily: db.collection(&names.of(names::USAGE_DAILY)),
            monthly: db.collection(&names.of(names::USAGE_MONTHLY)),
            agents: db.collection(&names.of(names::AGENT_STATS)),
            usd_per_million_credits,
        }
    }

    /// A user's usage, newest first: the query the cost dashboards make.
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        for collection in [&self.daily, &self.monthly] {
            collection
                .create_index(
                    mongodb::IndexModel::builder()
                        .keys(doc! { "userId": 1, "start": -1 })
                        .build(),
                )
                .await?;
        }
        Ok(())
    }

    /// Recomputes every key `touched` names.
    pub async fn refresh(&self, touched: &Touched) -> Result<(), Error> {
        let usage = self.usage_conversations(touched).await?;
        let agents = self.agent_conversations(touched).await?;
        self.put_all(&self.figures(touched, &usage, &agents)).await
    }

    /// The conversations (rollup fields only) the usage keys of `touched` cover.
    async fn usage_conversations(&self, touched: &Touched) -> Result<Vec<Document>, Error> {
        let (Some((_, first)), Some((_, last))) = (
            touched.days.iter().min_by_key(|(_, d)| *d),
            touched.days.iter().max_by_key(|(_, d)| *d),
        ) else {
            return Ok(Vec::new());
        };
        let users: BTreeSet<ObjectId> = touched.days.iter().map(|(u, _)| *u).collect();
        Ok(self
            .conversations
            .find(doc! {
                "userId": { "$in": users.iter().copied().collect::<Vec<_>>() },
                "startedAt": {
                    "$gte": bson_time(first.month_start()),
                    "$lt": bson_time(last.next_month_start()),
                },
            })
            .projection(FIELDS.clone())
            .await?
            .try_collect()
            .await?)
    }

    /// The conversations (rollup fields only) of the agents `touched` names.
    async fn agent_conversations(&self, touched: &Touched) -> Result<Vec<Document>, Error> {
        if touched.agents.is_empty() {
            return Ok(Vec::new());
        }
        let agents: Vec<&str> = touched.agents.iter().map(String::as_str).collect();
        Ok(self
            .conversations
            .find(doc! { "agentId": { "$in": agents } })
            .projection(FIELDS.clone())
            .await?
            .try_collect()
            .await?)
    }

    /// The documents of every key `touched` names (`None`: delete it),
    /// from `usage` and `agents`: conversations with the fields of
    /// [`FIELDS`], covering at least those keys (more are ignored).
    pub fn figures(&self, touched: &Touched, usage: &[Document], agents: &[Document]) -> Figures {
        let months: BTreeSet<(ObjectId, String)> = touched
            .days
            .iter()
            .map(|(u, d)| (*u, d.month_key()))
            .collect();
        let mut daily: HashMap<(ObjectId, Day), Usage> = HashMap::new();
        let mut monthly: HashMap<(ObjectId, String), (Day, Usage)> = HashMap::new();
        for conversation in usage {
            let (Ok(user), Ok(started)) = (
                conversation.get_object_id("userId"),
                conversation.get_datetime("startedAt"),
            ) else {
                continue;
            };
            let day = Day::of(*started);
            if touched.days.contains(&(user, day)) {
                daily.entry((user, day)).or_default().add(conversation);
            }
            if months.contains(&(user, day.month_key())) {
                monthly
                    .entry((user, day.month_key()))
                    .or_insert_with(|| (day, Usage::default()))
                    .1
                    .add(conversation);
            }
        }
        let mut figures = Figures::default();
        for (user, day) in &touched.days {
            let usage = daily.get(&(*user, *day));
            figures.daily.push((
                format!("{}:{}", user.to_hex(), day.day_key()),
                usage.map(|u| self.usage_doc(*user, "day", day.day_key(), day.start(), u)),
            ));
        }
        for (user, month) in &months {
            let usage = monthly.get(&(*user, month.clone()));
            figures.monthly.push((
                format!("{}:{month}", user.to_hex()),
                usage.map(|(day, u)| {
                    self.usage_doc(*user, "month", month.clone(), day.month_start(), u)
                }),
            ));
        }
        let mut stats: BTreeMap<&str, AgentFigures> = BTreeMap::new();
        for conversation in agents {
            if let Ok(agent) = conversation.get_str("agentId") {
                stats.entry(agent).or_default().add(conversation);
            }
        }
        for agent in &touched.agents {
            let found = stats.get(agent.as_str()).map(|f| f.to_doc(agent));
            figures.agents.push((agent.clone(), found));
        }
        figures
    }

    fn usage_doc(
        &self,
        user: ObjectId,
        period: &str,
        key: String,
        start: ChronoTime<Utc>,
        usage: &Usage,
    ) -> Document {
        let seconds = i32::try_from(usage.seconds).unwrap_or(i32::MAX);
        doc! {
            "userId": user,
            "period": period,
            "key": key,
            "start": bson_time(start),
            "conversations": usage.conversations,
            "seconds": usage.seconds,
            "credits": usage.credits,
            "money": usage.credits * self.usd_per_million_credits / 1_000_000.0,
            "currency": "USD",
            "costPerMinute": cost_per_minute(usage.credits, seconds),
            "averageLatency": usage.average_latency(),
            "asOf": usage.as_of(),
        }
    }

    /// Writes `figures`: per collection, one command of replacements
    /// (upserted) and one of deletions, in slices of [`PUTS_PER_COMMAND`].
    pub async fn put_all(&self, figures: &Figures) -> Result<(), Error> {
        for (collection, puts) in [
            (&self.daily, &figures.daily),
            (&self.monthly, &figures.monthly),
            (&self.agents, &figures.agents),
        ] {
            let mut replaced = Vec::new();
            let mut deleted = Vec::new();
            for (id, fields) in puts {
                match fields {
                    Some(fields) => {
                        let mut document = doc! { "_id": id.as_str() };
                        document.extend(fields.clone());
                        replaced.push(
                            doc! { "q": { "_id": id.as_str() }, "u": document, "upsert": true },
                        );
                    }
                    None => deleted.push(doc! { "q": { "_id": id.as_str() }, "limit": 1 }),
                }
            }
            self.send("update", "updates", collection, &replaced)
                .await?;
            self.send("delete", "deletes", collection, &deleted).await?;
        }
        Ok(())
    }

    /// `statements` as `command`s on `collection`, in slices.
    async fn send(
        &self,
        command: &str,
        field: &str,
        collection: &Collection<Document>,
        statements: &[Document],
    ) -> Result<(), Error> {
        for slice in statements.chunks(PUTS_PER_COMMAND) {
            let reply = self
                .db
                .run_command(doc! {
                    command: collection.name(),
                    field: slice,
                    "ordered": false,
                })
                .await?;
            check_write_errors(&reply, |_| false)?;
        }
        Ok(())
    }
}

/// Rollup documents by `_id`, per collection; `None` deletes the key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub daily: Vec<(String, Option<Document>)>,
    pub monthly: Vec<(String, Option<Document>)>,
    pub agents: Vec<(String, Option<Document>)>,
}

/// Statements per write command: far below MongoDB's 16 MB command limit
/// for rollup documents of a few kilobytes.
const PUTS_PER_COMMAND: usize = 1_000;

/// `conversation`'s [`FIELDS`], as a query projecting them returns them.
pub fn fields_of(conversation: &Document) -> Document {
    let mut fields = Document::new();
    for path in FIELDS.keys() {
        copy_path(conversation, &mut fields, path);
    }
    fields
}

/// [`fields_of`] a document as encoded, converting only the top-level
/// fields [`FIELDS`] reaches into (never the messages).
pub fn fields_of_raw(conversation: &RawDocument) -> Result<Document, mongodb::bson::raw::Error> {
    let mut reached = RawDocumentBuf::new();
    for element in conversation {
        let (key, value) = element?;
        let wanted = FIELDS
            .keys()
            .any(|path| path.split('.').next() == Some(key));
        if wanted {
            reached.append_ref(key, value);
        }
    }
    Ok(fields_of(&reached.to_document()?))
}

fn copy_path(from: &Document, to: &mut Document, path: &str) {
    match path.split_once('.') {
        None => {
            if let Some(value) = from.get(path) {
                to.insert(path, value.clone());
            }
        }
        Some((head, rest)) => {
            if let Ok(inner) = from.get_document(head) {
                let mut nested = to.get_document(head).cloned().unwrap_or_default();
                copy_path(inner, &mut nested, rest);
                if !nested.is_empty() {
                    to.insert(head, nested);
                }
            }
        }
    }
}

/// The conversation fields rollups read.
pub static FIELDS: std::sync::LazyLock<Document> = std::sync::LazyLock::new(|| {
    doc! {
        "userId": 1, "startedAt": 1, "agentId": 1, "duration": 1, "cost": 1,
        "metadata.analysis.call_successful": 1,
        "projection.latencySketch": 1, "projection.latencySumMs": 1,
        "projection.latencyTurns": 1,
        "projection.conversationSeq": 1, "projection.ledgerSeq": 1,
    }
});

fn bson_time(at: ChronoTime<Utc>) -> DateTime {
    DateTime::from_millis(at.timestamp_millis())
}
