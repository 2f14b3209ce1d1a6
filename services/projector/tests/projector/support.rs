//! One test's world: a real nats-server, a MongoDB (mongo-memory, or the
//! real server named by `PARLOR_TEST_MONGODB_URI` with a database of its
//! own) and the projector on them; plus a writer of one conversation's
//! events and the raw-document reads the assertions need.

use chrono::{DateTime, Duration, TimeZone, Utc};
use events::conversation::{
    AgentMessage, AgentMessageCorrected, AnalysisReported, ConversationMode, CostReported,
    EndReason, Ended, Interrupted, Requested, Started, UserMessage,
};
use events::ledger::{ChargeAdjusted, HoldCaptured, UsageCharged};
use events::{
    AccountId, AgentId, ConversationEvent, ConversationId, CorrelationId, Credits, Envelope,
    EnvelopeMeta, LedgerEvent, Posting, SystemAccount, UserId,
};
use eventstore::{EventStore, ExpectedVersion};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Client, Database};
use projector::{Conversations, Projector};
use testkit::{NatsServer, TestMongo};

pub struct World {
    pub store: EventStore,
    pub db: Database,
    pub projector: Projector,
    nats: NatsServer,
    mongo: TestMongo,
}

impl World {
    pub async fn start() -> Self {
        let nats = NatsServer::start().expect("nats-server");
        let store = EventStore::connect(&nats.url()).await.expect("connect");
        store.ensure_streams().await.expect("streams");
        let mongo = TestMongo::start("projector").await.expect("mongodb");
        let db = Client::with_uri_str(mongo.uri())
            .await
            .expect("mongo client")
            .database(mongo.database());
        let projector = Projector::start(&store, Conversations::live(&db))
            .await
            .expect("projector");
        Self {
            store,
            db,
            projector,
            nats,
            mongo,
        }
    }

    pub fn nats_url(&self) -> String {
        self.nats.url()
    }

    pub fn mongo_uri(&self) -> &str {
        self.mongo.uri()
    }

    /// The stored `conversations` document of `id`, as raw BSON.
    pub async fn raw(&self, id: ConversationId) -> Option<Document> {
        self.db
            .collection::<Document>("conversations")
            .find_one(doc! { "_id": ObjectId::from_bytes(id.bytes()) })
            .await
            .expect("find")
    }

    /// Like [`raw`](Self::raw), for a conversation that must exist.
    pub async fn document(&self, id: ConversationId) -> Document {
        self.raw(id).await.expect("a conversations document")
    }

    pub async fn drain(&self) -> usize {
        self.projector.drain().await.expect("drain")
    }

    /// Drops the real server's test database; mongo-memory needs nothing.
    pub async fn finish(self) {
        if self.mongo.is_real() {
            self.db.drop().await.expect("drop test database");
        }
    }
}

/// Writes one conversation's events (and its user's ledger events) to the log.
pub struct Call {
    pub id: ConversationId,
    pub user: UserId,
    pub agent: AgentId,
    pub start: DateTime<Utc>,
    version: u64,
    ledger_version: u64,
}

impl Call {
    pub fn new() -> Self {
        Self {
            id: ConversationId::new(),
            user: UserId::new(),
            agent: "agent_projector_test".parse().expect("agent id"),
            start: Utc.timestamp_millis_opt(1_760_000_000_000).unwrap(),
            version: 0,
            ledger_version: 0,
        }
    }

    /// Another call of the same user and agent, after this one's ledger events.
    pub fn then_another(&self) -> Self {
        Self {
            id: ConversationId::new(),
            user: self.user,
            agent: self.agent.clone(),
            start: self.start,
            version: 0,
            ledger_version: self.ledger_version,
        }
    }

    pub fn at(&self, ms: i64) -> DateTime<Utc> {
        self.start + Duration::milliseconds(ms)
    }

    /// The BSON date `ms` milliseconds after the call's start.
    pub fn bson_at(&self, ms: i64) -> mongodb::bson::DateTime {
        mongodb::bson::DateTime::from_millis(self.at(ms).timestamp_millis())
    }

    pub async fn append(&mut self, store: &EventStore, ms: i64, event: ConversationEvent) {
        let mut meta = EnvelopeMeta::new(self.id.to_string(), CorrelationId::new())
            .for_user(self.user)
            .with_agent(self.agent.clone());
        meta.occurred_at = self.at(ms);
        let appended = store
            .append(
                self.id,
                ExpectedVersion::Exact(self.version),
                &[Envelope::new(meta, event)],
            )
            .await
            .expect("append conversation event");
        self.version = appended.version;
    }

    /// Follows a ledger append made behind this writer's back.
    pub fn set_ledger_version(&mut self, version: u64) {
        self.ledger_version = version;
    }

    /// Follows an append made behind this writer's back.
    pub fn set_version(&mut self, version: u64) {
        self.version = version;
    }

    /// Appends `events` (each at its offset in ms) without awaiting each
    /// ack in turn: publishes pipelined, then awaits the acks, as a busy
    /// session's writer does. Returns the events appended.
    pub async fn append_pipelined(
        &mut self,
        store: &EventStore,
        events: impl IntoIterator<Item = (i64, ConversationEvent)>,
    ) -> usize {
        let js = async_nats::jetstream::new(store.client().clone());
        let mut acks = Vec::new();
        for (ms, event) in events {
            let mut meta = EnvelopeMeta::new(self.id.to_string(), CorrelationId::new())
                .for_user(self.user)
                .with_agent(self.agent.clone());
            meta.occurred_at = self.at(ms);
            let ack = js
                .publish(
                    format!("conv.{}", self.id),
                    Envelope::new(meta, event).to_json().into(),
                )
                .await
                .expect("publish");
            acks.push(ack);
        }
        let appended = acks.len();
        for ack in acks {
            self.version = ack.await.expect("ack").sequence;
        }
        appended
    }

    pub async fn append_ledger(&mut self, store: &EventStore, ms: i64, event: LedgerEvent) {
        let account = AccountId::User(self.user);
        let mut meta = EnvelopeMeta::new(account.to_string(), CorrelationId::new());
        meta.occurred_at = self.at(ms);
        let appended = store
            .append(
                account,
                ExpectedVersion::Exact(self.ledger_version),
                &[Envelope::new(meta, event)],
            )
            .await
            .expect("append ledger event");
        self.ledger_version = appended.version;
    }

    pub fn requested() -> ConversationEvent {
        ConversationEvent::Requested(Requested {
            mode: ConversationMode::Live,
            owner: Some("session-1".into()),
        })
    }

    pub fn started() -> ConversationEvent {
        ConversationEvent::Started(Started {
            elevenlabs_conversation_id: "conv_el_projector".into(),
            user_input_audio_format: Some("pcm_16000".into()),
            agent_output_audio_format: Some("pcm_16000".into()),
            text_only: false,
        })
    }

    pub fn user(text: &str, time_in_call_ms: u64) -> ConversationEvent {
        ConversationEvent::UserMessage(UserMessage {
            text: text.into(),
            time_in_call_ms,
        })
    }

    pub fn agent(
        text: &str,
        time_in_call_ms: u64,
        latency_ms: Option<u64>,
        event_id: u64,
    ) -> ConversationEvent {
        ConversationEvent::AgentMessage(AgentMessage {
            text: text.into(),
            time_in_call_ms,
            latency_ms,
            event_id: Some(event_id),
        })
    }

    pub fn interrupted(event_id: u64, time_in_call_ms: u64) -> ConversationEvent {
        ConversationEvent::Interrupted(Interrupted {
            event_id: Some(event_id),
            time_in_call_ms,
        })
    }

    pub fn corrected(event_id: u64, original: &str, corrected: &str) -> ConversationEvent {
        ConversationEvent::AgentMessageCorrected(AgentMessageCorrected {
            original: original.into(),
            corrected: corrected.into(),
            event_id: Some(event_id),
            time_in_call_ms: 0,
        })
    }

    pub fn ended(duration_ms: u64) -> ConversationEvent {
        ConversationEvent::Ended(Ended {
            reason: EndReason::AgentEnded,
            duration_ms,
            close_code: Some(1000),
        })
    }

    pub fn cost_reported(credits: i64, call_duration_ms: u64) -> ConversationEvent {
        ConversationEvent::CostReported(CostReported {
            elevenlabs_conversation_id: "conv_el_projector".into(),
            credits: Credits::new(credits),
            call_duration_ms,
            charging: None,
        })
    }

    pub fn analysis(call_successful: &str) -> ConversationEvent {
        ConversationEvent::AnalysisReported(AnalysisReported {
            call_successful: Some(call_successful.into()),
            summary: Some("a test call".into()),
            termination_reason: None,
            analysis: serde_json::json!({}),
        })
    }

    pub fn captured(&self, credits: i64) -> LedgerEvent {
        let postings = Posting::transfer(
            AccountId::System(SystemAccount::Holds),
            AccountId::System(SystemAccount::Usage),
            Credits::new(credits),
        );
        LedgerEvent::HoldCaptured(HoldCaptured {
            conversation_id: self.id,
            credits: Credits::new(credits),
            postings: postings.to_vec(),
        })
    }

    pub fn charged(&self, credits: i64, duration_ms: u64) -> LedgerEvent {
        let postings = Posting::transfer(
            AccountId::User(self.user),
            AccountId::System(SystemAccount::Usage),
            Credits::new(credits),
        );
        LedgerEvent::UsageCharged(UsageCharged {
            conversation_id: self.id,
            credits: Credits::new(credits),
            duration_ms,
            postings: postings.to_vec(),
        })
    }

    pub fn adjusted(&self, estimated: i64, actual: i64) -> LedgerEvent {
        let postings = Posting::transfer(
            AccountId::System(SystemAccount::Adjustments),
            AccountId::User(self.user),
            Credits::new(estimated - actual),
        );
        LedgerEvent::ChargeAdjusted(ChargeAdjusted {
            conversation_id: self.id,
            estimated: Credits::new(estimated),
            actual: Credits::new(actual),
            postings: postings.to_vec(),
            detail: Default::default(),
        })
    }
}

/// Every Prisma field present with its BSON type, whatever the stage.
pub fn assert_prisma_types(doc: &Document) {
    assert!(matches!(doc.get("_id"), Some(Bson::ObjectId(_))), "{doc}");
    assert!(
        matches!(doc.get("userId"), Some(Bson::ObjectId(_))),
        "{doc}"
    );
    assert!(matches!(doc.get("agentId"), Some(Bson::String(_))), "{doc}");
    assert!(
        matches!(doc.get("transcript"), Some(Bson::String(_))),
        "{doc}"
    );
    assert!(matches!(doc.get("duration"), Some(Bson::Int32(_))), "{doc}");
    assert!(matches!(doc.get("cost"), Some(Bson::Double(_))), "{doc}");
    assert!(
        matches!(doc.get("startedAt"), Some(Bson::DateTime(_))),
        "{doc}"
    );
    assert!(
        matches!(doc.get("endedAt"), Some(Bson::DateTime(_))),
        "{doc}"
    );
    assert!(matches!(doc.get("status"), Some(Bson::String(_))), "{doc}");
    assert!(
        matches!(doc.get("metadata"), Some(Bson::Document(_) | Bson::Null)),
        "{doc}"
    );
    let Some(Bson::Array(messages)) = doc.get("messages") else {
        panic!("messages is not an array: {doc}");
    };
    for message in messages {
        let Bson::Document(message) = message else {
            panic!("a message is not an object: {message}");
        };
        assert!(
            matches!(message.get("role"), Some(Bson::String(_))),
            "{message}"
        );
        assert!(
            matches!(message.get("message"), Some(Bson::String(_))),
            "{message}"
        );
        assert!(
            matches!(message.get("timeInCallSecs"), Some(Bson::Int32(_))),
            "{message}"
        );
        assert!(
            matches!(message.get("at"), Some(Bson::DateTime(_))),
            "{message}"
        );
        assert!(
            matches!(message.get("latencyMs"), None | Some(Bson::Int32(_))),
            "{message}"
        );
        assert!(
            matches!(message.get("interrupted"), None | Some(Bson::Boolean(_))),
            "{message}"
        );
    }
    let metrics = doc.get_document("metrics").expect("metrics object");
    assert!(
        matches!(metrics.get("totalLatency"), Some(Bson::Int32(_))),
        "{metrics}"
    );
    assert!(
        matches!(metrics.get("averageLatency"), Some(Bson::Double(_))),
        "{metrics}"
    );
    assert!(
        matches!(metrics.get("messageCount"), Some(Bson::Int32(_))),
        "{metrics}"
    );
    assert!(
        matches!(metrics.get("creditsUsed"), Some(Bson::Double(_))),
        "{metrics}"
    );
    assert!(
        matches!(metrics.get("costPerMinute"), Some(Bson::Double(_))),
        "{metrics}"
    );
}
