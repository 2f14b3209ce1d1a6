//! The ledger's durable subscription on CONVERSATIONS: a call that ended,
//! failed or was submitted is charged; a cost report adjusts the charge; a
//! call that started text-only is priced per message (its messages are
//! counted from its own events when it ends).
//! Everything else about a conversation is none of the ledger's business.
//!
//! Events are handled concurrently: each decision waits only for its own
//! account, and the rules do not depend on the order a conversation's
//! events arrive in (a report before the end charges first), which is what
//! several copies sharing the durable consumer need anyway.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::PullConsumer;
use events::conversation::ConversationEvent;
use events::{ConversationId, Credits, DomainEvent, Envelope};
use eventstore::{HandlerError, LogMessage, StreamName};
use futures::StreamExt;
use tracing::Instrument;

use crate::book::{Book, Cause, ExecuteError};
use crate::decide::Command;
use crate::pricing::Pricing;

/// The durable consumer's name, shared by every ledger copy.
pub const DURABLE: &str = "ledger";

/// Conversation events one copy handles at once.
pub const CONCURRENCY: usize = 64;
/// Delay before an event whose handling failed is delivered again.
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// Handles conversation events from the durable consumer (which must
/// exist) until `shutdown` completes or the pull breaks. At shutdown no
/// new event is taken and the ones being handled finish; each is acked
/// only after it was booked, so a crash leaves it to be redelivered.
pub async fn follow(
    book: &Book,
    shutdown: impl Future<Output = ()>,
) -> Result<(), eventstore::Error> {
    let unavailable = |e: &dyn std::fmt::Display| eventstore::Error::Unavailable(e.to_string());
    let js = async_nats::jetstream::new(book.store().client().clone());
    let consumer: PullConsumer = js
        .get_stream(StreamName::Conversations.as_str())
        .await
        .map_err(|e| unavailable(&e))?
        .get_consumer(DURABLE)
        .await
        .map_err(|e| unavailable(&e))?;
    let messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
    messages
        .take_until(shutdown)
        .for_each_concurrent(CONCURRENCY, |message| async move {
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    tracing::warn!(%error, "pulling conversation events");
                    return;
                }
            };
            let Ok(info) = message.info() else {
                tracing::warn!(subject = %message.subject, "conversation event without delivery info; left for redelivery");
                return;
            };
            let log = LogMessage {
                sequence: info.stream_sequence,
                subject: message.subject.to_string(),
                payload: message.payload.clone(),
                delivered: u64::try_from(info.delivered).unwrap_or(1),
            };
            let sequence = log.sequence;
            let ack = match handle(book, log).await {
                Ok(()) => message.ack().await,
                Err(error) => {
                    tracing::warn!(sequence, %error, "conversation event not booked; it will be redelivered");
                    message.ack_with(AckKind::Nak(Some(RETRY_DELAY))).await
                }
            };
            // A lost ack means a redelivery, which books nothing twice.
            if let Err(error) = ack {
                tracing::warn!(sequence, %error, "ack of a conversation event failed");
            }
        })
        .await;
    Ok(())
}

/// Handles one conversation event. An error means "try again later" (the
/// event is redelivered); events the ledger can never book are logged and
/// acknowledged, so they cannot block the ones behind them.
pub async fn handle(book: &Book, message: LogMessage) -> Result<(), HandlerError> {
    let envelope = match message.decode::<ConversationEvent>() {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::error!(sequence = message.sequence, %error, "undecodable conversation event skipped");
            return Ok(());
        }
    };
    let Some(mut command) = command_for(&envelope, message.sequence, book.pricing()) else {
        return Ok(());
    };
    if let Command::Charge {
        user,
        conversation,
        messages,
        ..
    } = &mut command
    {
        *messages = count_messages(book, *user, *conversation).await?;
    }
    let span = tracing::info_span!(
        "charge",
        conversation_id = %envelope.meta.aggregate_id,
        user_id = %command.user(),
        correlation_id = %envelope.meta.correlation_id,
        event = envelope.event.event_type(),
    );
    let cause = Cause {
        correlation_id: envelope.meta.correlation_id,
        causation_id: Some(envelope.meta.id),
    };
    match book
        .execute(&command, cause, |_| ())
        .instrument(span.clone())
        .await
    {
        Ok(()) => Ok(()),
        Err(ExecuteError::Refused(refusal)) => {
            span.in_scope(|| {
                tracing::error!(reason = %refusal.message, "conversation event cannot be booked; skipped");
            });
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// What the ledger does about this event, if anything; a call never held
/// is priced at the rate in effect when the event occurred.
fn command_for(
    envelope: &Envelope<ConversationEvent>,
    sequence: u64,
    pricing: &Pricing,
) -> Option<Command> {
    let agent = envelope.meta.agent_id.as_ref();
    let rate = Some(pricing.rate(agent, envelope.meta.occurred_at));
    let (duration_ms, report) = match &envelope.event {
        ConversationEvent::Started(e) if e.text_only => (0, None),
        ConversationEvent::Ended(e) => (e.duration_ms, None),
        ConversationEvent::Failed(e) => (e.duration_ms, None),
        ConversationEvent::TranscriptSubmitted(e) => (e.duration_ms, None),
        ConversationEvent::CostReported(e) => (e.call_duration_ms, Some(e)),
        _ => return None,
    };
    let conversation: ConversationId = match envelope.meta.aggregate_id.parse() {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(sequence, %error, "conversation event with a bad aggregate id skipped");
            return None;
        }
    };
    let Some(user) = envelope.meta.user_id else {
        tracing::error!(sequence, conversation_id = %conversation, "conversation event without user_id; nobody to charge");
        return None;
    };
    if let ConversationEvent::Started(_) = &envelope.event {
        return Some(Command::PricePerMessage {
            user,
            conversation,
            credits_per_message: pricing.message_rate(agent, envelope.meta.occurred_at),
        });
    }
    Some(match report {
        None => Command::Charge {
            user,
            conversation,
            duration_ms,
            rate,
            messages: None,
        },
        Some(report) => Command::Adjust {
            user,
            conversation,
            actual: report.credits,
            call_duration_ms: duration_ms,
            call_credits: charging_part(report.charging.as_ref(), "call_charge"),
            llm_credits: charging_part(report.charging.as_ref(), "llm_charge"),
            rate,
        },
    })
}

/// The messages of a call priced per message, read from its own events
/// (only such calls pay for the read); `None` for every other call.
async fn count_messages(
    book: &Book,
    user: events::UserId,
    conversation: ConversationId,
) -> Result<Option<u32>, HandlerError> {
    let per_message = book.read(|state| {
        state
            .account(events::AccountId::User(user))
            .and_then(|a| a.conversations.get(&conversation))
            .is_some_and(|m| m.per_message.is_some() && !m.is_charged())
    });
    if !per_message {
        return Ok(None);
    }
    let loaded = book.store().load::<ConversationEvent>(conversation).await?;
    let messages = loaded
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.envelope.event,
                ConversationEvent::UserMessage(_) | ConversationEvent::AgentMessage(_)
            )
        })
        .count();
    Ok(Some(u32::try_from(messages).unwrap_or(u32::MAX)))
}

/// One whole-credit part of ElevenLabs' `charging` block, when it is there.
fn charging_part(charging: Option<&serde_json::Value>, name: &str) -> Option<Credits> {
    charging?.get(name)?.as_i64().map(Credits::new)
}
