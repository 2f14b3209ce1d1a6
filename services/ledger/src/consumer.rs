//! The ledger's durable subscription on CONVERSATIONS: a call that ended,
//! failed or was submitted is charged; a cost report adjusts the charge.
//! Everything else about a conversation is none of the ledger's business.

use events::conversation::ConversationEvent;
use events::{ConversationId, DomainEvent, Envelope};
use eventstore::{HandlerError, LogMessage};
use tracing::Instrument;

use crate::book::{Book, Cause, ExecuteError};
use crate::decide::Command;

/// The durable consumer's name, shared by every ledger copy.
pub const DURABLE: &str = "ledger";

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
    let Some(command) = command_for(&envelope, message.sequence) else {
        return Ok(());
    };
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

/// What the ledger does about this event, if anything.
fn command_for(envelope: &Envelope<ConversationEvent>, sequence: u64) -> Option<Command> {
    let (duration_ms, actual) = match &envelope.event {
        ConversationEvent::Ended(e) => (e.duration_ms, None),
        ConversationEvent::Failed(e) => (e.duration_ms, None),
        ConversationEvent::TranscriptSubmitted(e) => (e.duration_ms, None),
        ConversationEvent::CostReported(e) => (e.call_duration_ms, Some(e.credits)),
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
    Some(match actual {
        None => Command::Charge {
            user,
            conversation,
            duration_ms,
        },
        Some(actual) => Command::Adjust {
            user,
            conversation,
            actual,
            call_duration_ms: duration_ms,
        },
    })
}
