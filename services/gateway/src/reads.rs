//! `Reads`: the projector's MongoDB read models, read only. The collection
//! names are the projector's (services/projector `names`); the gateway never
//! writes to any of them.

use bson::Document;
use mongodb::{Collection, Database};

/// The read-model database.
#[derive(Clone, Debug)]
pub struct Reads {
    db: Database,
}

impl Reads {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// One document per conversation, the Prisma `Conversation` shape (DESIGN §3).
    pub fn conversations(&self) -> Collection<Document> {
        self.db.collection("conversations")
    }

    /// Messages past a conversation document's embedded cap, in order.
    pub fn conversation_messages(&self) -> Collection<Document> {
        self.db.collection("conversation_messages")
    }

    pub fn user_usage_daily(&self) -> Collection<Document> {
        self.db.collection("user_usage_daily")
    }

    pub fn user_usage_monthly(&self) -> Collection<Document> {
        self.db.collection("user_usage_monthly")
    }

    pub fn agent_stats(&self) -> Collection<Document> {
        self.db.collection("agent_stats")
    }

    pub fn ledger_accounts(&self) -> Collection<Document> {
        self.db.collection("ledger_accounts")
    }

    pub fn ledger_entries(&self) -> Collection<Document> {
        self.db.collection("ledger_entries")
    }
}
