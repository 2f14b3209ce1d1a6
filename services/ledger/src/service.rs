//! `Ledger`: one running copy of the service — state rebuilt from the log,
//! the LEDGER tail, the hold-expiry timer, the command handlers and the conversation subscription.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use events::command::Balance;
use events::{Credits, UserId};
use eventstore::{EventStore, Step, StreamName, Subscription, SubscriptionConfig};
use futures::FutureExt;
use tokio::task::JoinSet;

use crate::book::Book;
use crate::config::Config;
use crate::pricing::Pricing;
use crate::{Error, commands, consumer, sweep, tail};

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
        tasks.spawn(sweep::run(Arc::clone(&book)));
        commands::serve(store.client(), &book, &mut tasks)
            .await
            .map_err(|e| Error::Nats(e.to_string()))?;
        let subscription = store
            .subscribe(SubscriptionConfig {
                ack_wait: config.ack_wait,
                ..SubscriptionConfig::new(StreamName::Conversations, consumer::DURABLE)
            })
            .await?;
        tracing::info!(nats = %config.nats_url, pricing = ?book.pricing(), "ledger ready");
        Ok(Self {
            book,
            subscription,
            tasks,
        })
    }

    /// Handles conversation events until `shutdown` completes. While NATS
    /// is unreachable it keeps trying rather than stopping the service.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let shutdown = shutdown.shared();
        loop {
            let followed = consumer::follow(&self.book, shutdown.clone()).await;
            if shutdown.peek().is_some() {
                break;
            }
            match followed {
                Ok(()) => tracing::warn!("conversation events ended; following again"),
                Err(error) => tracing::warn!(%error, "conversation events unavailable; retrying"),
            }
            tokio::select! {
                () = shutdown.clone() => break,
                () = tokio::time::sleep(RETRY_DELAY) => {}
            }
        }
        self.tasks.shutdown().await;
        tracing::info!("ledger stopped");
        Ok(())
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
        self.book.read(|state| state.balance(user))
    }

    /// The sum of every account's balance: zero unless double entry broke.
    pub async fn total(&self) -> Credits {
        self.book.read(|state| state.total())
    }
}
