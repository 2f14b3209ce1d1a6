//! `Ledger`: one running copy of the service — state rebuilt from the log,
//! the LEDGER tail, the command handlers and the conversation subscription.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use events::command::Balance;
use events::{Credits, UserId};
use eventstore::{EventStore, Step, StreamName, Subscription, SubscriptionConfig};
use tokio::task::JoinSet;

use crate::book::Book;
use crate::config::Config;
use crate::pricing::Pricing;
use crate::{Error, commands, consumer, tail};

/// Pause before reading conversation events again after NATS failed.
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// A started ledger copy. Dropping it stops its command handlers and tail.
pub struct Ledger {
    book: Arc<Book>,
    subscription: Subscription,
    tasks: JoinSet<()>,
}

impl Ledger {
    /// Connects, rebuilds the state from LEDGER, starts following it and
    /// answering commands, and joins the durable `ledger` subscription.
    /// Commands are answered once this returns; conversation events are
    /// handled by [`Ledger::run`] or [`Ledger::step`].
    pub async fn start(config: &Config, pricing: Pricing) -> Result<Self, Error> {
        let store = EventStore::connect(&config.nats_url).await?;
        store.ensure_streams().await?;
        let book = Arc::new(Book::new(store.clone(), pricing));
        let last = book.replay().await?;
        let mut tasks = JoinSet::new();
        tasks.spawn(tail::follow(Arc::clone(&book), last));
        commands::serve(store.client(), &book, &mut tasks)
            .await
            .map_err(|e| Error::Nats(e.to_string()))?;
        let subscription = store
            .subscribe(SubscriptionConfig::new(
                StreamName::Conversations,
                consumer::DURABLE,
            ))
            .await?;
        tracing::info!(nats = %config.nats_url, ?pricing, "ledger ready");
        Ok(Self {
            book,
            subscription,
            tasks,
        })
    }

    /// Handles conversation events until `shutdown` completes. While NATS
    /// is unreachable it keeps trying rather than stopping the service.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let book = Arc::clone(&self.book);
        let mut handler = |message| {
            let book = Arc::clone(&book);
            async move { consumer::handle(&book, message).await }
        };
        tokio::pin!(shutdown);
        let result = loop {
            match self.subscription.run(shutdown.as_mut(), &mut handler).await {
                Err(eventstore::Error::Unavailable(reason)) => {
                    tracing::warn!(%reason, "conversation events unavailable; retrying");
                    tokio::select! {
                        () = &mut shutdown => break Ok(()),
                        () = tokio::time::sleep(RETRY_DELAY) => {}
                    }
                }
                done => break done,
            }
        };
        self.tasks.shutdown().await;
        tracing::info!("ledger stopped");
        Ok(result?)
    }

    /// Handles the conversation events waiting now: what tests drive.
    pub async fn step(&self) -> Result<Step, Error> {
        let book = &self.book;
        Ok(self
            .subscription
            .step(|message| async move { consumer::handle(book, message).await })
            .await?)
    }

    /// A user's balance as this copy knows it.
    pub async fn balance(&self, user: UserId) -> Balance {
        self.book.read(|state| state.balance(user)).await
    }

    /// The sum of every account's balance: zero unless double entry broke.
    pub async fn total(&self) -> Credits {
        self.book.read(|state| state.total()).await
    }
}
