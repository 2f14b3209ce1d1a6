//! Shared by the ledger's integration tests: a real nats-server, ledger
//! copies started in-process, requests, conversation events, and reading the
//! LEDGER stream back to check the money.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use events::command::{
    Balance, ExtendHold, GetBalance, GrantCredits, HoldCredits, HoldExtended, HoldPlaced, Refusal,
    Reply, subject,
};
use events::conversation::{
    ConversationMode, CostReported, EndReason, Ended, Failed, FailureReason, Requested, Role,
    TranscriptLine, TranscriptSubmitted,
};
use events::ledger::LedgerEvent;
use events::{
    AccountId, AgentId, ConversationEvent, ConversationId, CorrelationId, Credits, DomainEvent,
    Envelope, EnvelopeMeta, EventId, UserId,
};
use eventstore::{EventStore, ExpectedVersion, ReplayFrom, StreamName};
use futures::TryStreamExt;
use ledger::{Config, Ledger, Pricing};
use serde::Serialize;
use serde::de::DeserializeOwned;
use testkit::NatsServer;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Harness {
    pub server: NatsServer,
    pub store: EventStore,
    pub client: async_nats::Client,
}

impl Harness {
    pub async fn start() -> Self {
        let server = NatsServer::start().expect("nats-server");
        let store = EventStore::connect(&server.url()).await.expect("connect");
        store.ensure_streams().await.expect("streams");
        let client = store.client().clone();
        Self {
            server,
            store,
            client,
        }
    }

    pub fn config(&self) -> Config {
        Config::new(self.server.url())
    }

    /// A ledger copy whose holds cover ten minutes, so the charging tests
    /// see calls end inside their hold; spend control tests choose their own.
    pub async fn ledger(&self) -> Ledger {
        self.ledger_with(Pricing {
            period_secs: 600,
            ttl_secs: 3_600,
            ..Pricing::default()
        })
        .await
    }

    pub async fn ledger_with(&self, pricing: Pricing) -> Ledger {
        Ledger::start(&self.config(), pricing)
            .await
            .expect("ledger starts")
    }

    pub async fn request<T: Serialize, R: DeserializeOwned>(
        &self,
        subject: &str,
        body: &T,
    ) -> Result<R, Refusal> {
        let payload = serde_json::to_vec(body).expect("json");
        self.request_raw(subject, payload).await
    }

    pub async fn request_raw<R: DeserializeOwned>(
        &self,
        subject: &str,
        payload: Vec<u8>,
    ) -> Result<R, Refusal> {
        let reply = self
            .client
            .request(subject.to_owned(), payload.into())
            .await
            .expect("a reply, never silence");
        serde_json::from_slice::<Reply<R>>(&reply.payload)
            .expect("a reply body")
            .into_result()
    }

    pub async fn grant(&self, user: UserId, credits: i64) -> Balance {
        self.grant_with_id(user, credits, EventId::new()).await
    }

    pub async fn grant_with_id(&self, user: UserId, credits: i64, grant_id: EventId) -> Balance {
        let grant = GrantCredits {
            grant_id,
            user_id: user,
            credits: Credits::new(credits),
            reason: Some("test".to_owned()),
        };
        self.request(subject::LEDGER_GRANT, &grant)
            .await
            .expect("granted")
    }

    pub async fn hold(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<HoldPlaced, Refusal> {
        let hold = HoldCredits {
            conversation_id: conversation,
            user_id: user,
            agent_id: agent(),
            correlation_id: CorrelationId::new(),
        };
        self.request(subject::LEDGER_HOLD, &hold).await
    }

    pub async fn extend(
        &self,
        user: UserId,
        conversation: ConversationId,
        period: u32,
    ) -> Result<HoldExtended, Refusal> {
        let extend = ExtendHold {
            conversation_id: conversation,
            user_id: user,
            correlation_id: CorrelationId::new(),
            period,
        };
        self.request(subject::LEDGER_EXTEND, &extend).await
    }

    pub async fn balance(&self, user: UserId) -> Balance {
        self.request(subject::LEDGER_BALANCE, &GetBalance { user_id: user })
            .await
            .expect("balance")
    }

    /// Polls the balance (any copy may answer) until it is `expected`.
    pub async fn await_balance(&self, user: UserId, expected: Balance) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let balance = self.balance(user).await;
            if balance == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "balance {balance:?}, expected {expected:?}"
            );
            tokio::task::yield_now().await;
        }
    }

    /// Appends conversation events as the session service would.
    pub async fn conversation(
        &self,
        conversation: ConversationId,
        user: UserId,
        events: Vec<ConversationEvent>,
    ) {
        let correlation = CorrelationId::new();
        let envelopes: Vec<_> = events
            .into_iter()
            .map(|event| {
                Envelope::new(
                    EnvelopeMeta::new(conversation.to_string(), correlation)
                        .for_user(user)
                        .with_agent(agent()),
                    event,
                )
            })
            .collect();
        self.store
            .append(conversation, ExpectedVersion::Any, &envelopes)
            .await
            .expect("append conversation events");
    }

    /// Every ledger event in the log, in order.
    pub async fn ledger_events(&self) -> Vec<Envelope<LedgerEvent>> {
        self.store
            .replay(StreamName::Ledger, ReplayFrom::Beginning)
            .await
            .expect("replay")
            .try_collect::<Vec<_>>()
            .await
            .expect("read")
            .iter()
            .map(|m| {
                m.decode::<LedgerEvent>()
                    .expect("every ledger event decodes")
            })
            .collect()
    }

    /// Every account's balance as the log says; asserts they sum to zero.
    pub async fn log_balances(&self) -> HashMap<AccountId, Credits> {
        let mut balances = HashMap::new();
        for envelope in self.ledger_events().await {
            assert!(envelope.event.is_balanced());
            for posting in envelope.event.postings() {
                let balance = balances.entry(posting.account).or_insert(Credits::ZERO);
                *balance = *balance + posting.credits;
            }
        }
        let total: Credits = balances.values().copied().sum();
        assert_eq!(
            total,
            Credits::ZERO,
            "the sum of all balances is zero: {balances:?}"
        );
        balances
    }

    /// The types of the ledger events about `conversation`, in order.
    pub async fn conversation_charges(&self, conversation: ConversationId) -> Vec<&'static str> {
        self.ledger_events()
            .await
            .iter()
            .filter(|e| concerns(&e.event, conversation))
            .map(|e| e.event.event_type())
            .collect()
    }
}

fn concerns(event: &LedgerEvent, conversation: ConversationId) -> bool {
    let id = match event {
        LedgerEvent::CreditsHeld(e) => e.conversation_id,
        LedgerEvent::HoldCaptured(e) => e.conversation_id,
        LedgerEvent::HoldReleased(e) => e.conversation_id,
        LedgerEvent::UsageCharged(e) => e.conversation_id,
        LedgerEvent::ChargeAdjusted(e) => e.conversation_id,
        LedgerEvent::AccountOpened(_)
        | LedgerEvent::CreditsGranted(_)
        | LedgerEvent::CreditsExpired(_)
        | LedgerEvent::CreditsCorrected(_) => return false,
        LedgerEvent::CallPricedPerMessage(e) => e.conversation_id,
    };
    id == conversation
}

/// Steps `ledger` until `done` says so.
pub async fn drain_until<F, Fut>(ledger: &Ledger, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        ledger.step().await.expect("step");
        if done().await {
            return;
        }
        assert!(Instant::now() < deadline, "the ledger never got there");
    }
}

pub fn agent() -> AgentId {
    "agent_test".parse().expect("agent id")
}

pub fn balance(available: i64, held: i64) -> Balance {
    Balance {
        available: Credits::new(available),
        held: Credits::new(held),
    }
}

pub fn requested() -> ConversationEvent {
    ConversationEvent::Requested(Requested {
        mode: ConversationMode::Live,
        owner: None,
    })
}

pub fn ended(duration_ms: u64) -> ConversationEvent {
    ConversationEvent::Ended(Ended {
        reason: EndReason::AgentEnded,
        duration_ms,
        close_code: None,
    })
}

pub fn failed(duration_ms: u64) -> ConversationEvent {
    ConversationEvent::Failed(Failed {
        reason: FailureReason::SessionLost,
        message: "session lost".to_owned(),
        duration_ms,
    })
}

pub fn cost_reported(credits: i64, call_duration_ms: u64) -> ConversationEvent {
    ConversationEvent::CostReported(CostReported {
        elevenlabs_conversation_id: "conv_test".to_owned(),
        credits: Credits::new(credits),
        call_duration_ms,
        charging: None,
    })
}

pub fn transcript_submitted(duration_ms: u64) -> ConversationEvent {
    ConversationEvent::TranscriptSubmitted(TranscriptSubmitted {
        elevenlabs_conversation_id: Some("conv_client_side".to_owned()),
        messages: vec![TranscriptLine {
            role: Role::User,
            text: "hello".to_owned(),
            time_in_call_ms: 0,
        }],
        duration_ms,
        metrics: None,
        metadata: None,
        status: None,
    })
}
