//! From log messages to documents: decoding, routing to the conversation a
//! message is about, and the two durable subscriptions that feed the live
//! collection, driven step by step (tests) or until shutdown (service).

use std::future::Future;

use eventstore::{
    EventStore, HandlerError, LogMessage, Step, StreamName, Subscription, SubscriptionConfig,
};
use futures::FutureExt;

use crate::error::Error;
use crate::route::Routed;
use crate::store::Conversations;

/// The durable consumer on CONVERSATIONS.
pub const CONVERSATIONS_DURABLE: &str = "projector-conversations";
/// The durable consumer on LEDGER.
pub const LEDGER_DURABLE: &str = "projector-ledger";
/// Steps a drain takes at most before reporting it never caught up.
pub const MAX_DRAIN_STEPS: usize = 100_000;

/// Projects one message of `stream` into `target`; true when a document changed.
pub async fn project(
    target: &Conversations,
    stream: StreamName,
    message: &LogMessage,
) -> Result<bool, Error> {
    let Some(routed) = Routed::decode(stream, message) else {
        return Ok(false);
    };
    target
        .update(
            routed.id(),
            || routed.new_document(),
            |doc| routed.apply(doc),
        )
        .await
}

/// The projector's two subscriptions, feeding the live collection.
pub struct Projector {
    conversations: Subscription,
    ledger: Subscription,
    target: Conversations,
}

impl Projector {
    /// Ensures the collection's indexes and joins both durable consumers.
    pub async fn start(store: &EventStore, target: Conversations) -> Result<Self, Error> {
        target.ensure_indexes().await?;
        let conversations = store
            .subscribe(SubscriptionConfig::new(
                StreamName::Conversations,
                CONVERSATIONS_DURABLE,
            ))
            .await?;
        let ledger = store
            .subscribe(SubscriptionConfig::new(StreamName::Ledger, LEDGER_DURABLE))
            .await?;
        Ok(Self {
            conversations,
            ledger,
            target,
        })
    }

    /// Projects what is waiting on each stream now, without waiting for more.
    pub async fn step(&self) -> Result<[Step; 2], Error> {
        let conversations = self
            .conversations
            .step(handler(&self.target, StreamName::Conversations))
            .await?;
        let ledger = self
            .ledger
            .step(handler(&self.target, StreamName::Ledger))
            .await?;
        Ok([conversations, ledger])
    }

    /// Steps until both streams are caught up; returns the events handled.
    /// A failing event stops the drain with [`Error::Stalled`].
    pub async fn drain(&self) -> Result<usize, Error> {
        let mut handled = 0;
        for _ in 0..MAX_DRAIN_STEPS {
            let steps = self.step().await?;
            for (step, durable) in steps.iter().zip([CONVERSATIONS_DURABLE, LEDGER_DURABLE]) {
                match *step {
                    Step::Advanced(n) => handled += n,
                    Step::CaughtUp => {}
                    Step::Failed { handled } => {
                        return Err(Error::Stalled {
                            durable: durable.to_owned(),
                            handled,
                        });
                    }
                }
            }
            if steps == [Step::CaughtUp, Step::CaughtUp] {
                return Ok(handled);
            }
        }
        Err(Error::Stalled {
            durable: "projector".to_owned(),
            handled,
        })
    }

    /// Projects both streams until `shutdown` completes.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let shutdown = shutdown.shared();
        // Either loop failing stops both: the service then exits and restarts.
        tokio::try_join!(
            self.conversations.run(
                shutdown.clone(),
                handler(&self.target, StreamName::Conversations)
            ),
            self.ledger
                .run(shutdown, handler(&self.target, StreamName::Ledger)),
        )?;
        Ok(())
    }
}

/// The subscription handler projecting `stream` into `target`.
fn handler(
    target: &Conversations,
    stream: StreamName,
) -> impl FnMut(LogMessage) -> futures::future::BoxFuture<'static, Result<(), HandlerError>> {
    let target = target.clone();
    move |message| {
        let target = target.clone();
        async move {
            project(&target, stream, &message).await?;
            Ok(())
        }
        .boxed()
    }
}
