//! The `cmd.ledger.*` request/reply handlers (DESIGN §6: hold, extend,
//! grant, grant_expiring, correct, balance, reconcile): core NATS, queue
//! group `ledger`, JSON bodies. Every request gets a reply; a malformed one
//! gets an `invalid_request` refusal.

use std::sync::Arc;

use async_nats::{Client, Subscriber};
use events::command::{
    Balance, CorrectCredits, ExtendHold, GetBalance, GrantCredits, GrantExpiringCredits,
    HoldCredits, HoldExtended, HoldPlaced, Reconcile, Refusal, RefusalCode, Reply, subject,
};
use events::{AccountId, CorrelationId, UserId};
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::book::{Book, Cause};
use crate::correct::Correction;
use crate::decide::Command;
use crate::history::History;
use crate::reconcile::{self, Report, Window};

/// Copies of the ledger share requests through this queue group.
pub const QUEUE_GROUP: &str = "ledger";

/// Requests of one subject answered at once by one copy; more wait in NATS.
pub const MAX_IN_FLIGHT: usize = 512;

/// Subscribes to the command subjects and answers on tasks spawned into `tasks`.
/// Returns once the server has registered the subscriptions.
pub async fn serve(
    client: &Client,
    book: &Arc<Book>,
    tasks: &mut JoinSet<()>,
) -> Result<(), async_nats::Error> {
    for name in [
        subject::LEDGER_HOLD,
        subject::LEDGER_EXTEND,
        subject::LEDGER_GRANT,
        subject::LEDGER_GRANT_EXPIRING,
        subject::LEDGER_CORRECT,
        subject::LEDGER_BALANCE,
        subject::LEDGER_RECONCILE,
    ] {
        let requests = client.queue_subscribe(name, QUEUE_GROUP.to_owned()).await?;
        tasks.spawn(answer_all(client.clone(), Arc::clone(book), requests));
    }
    client.flush().await?;
    Ok(())
}

/// Answers each request on a task of its own, so a request waits only
/// for the account it touches; at most [`MAX_IN_FLIGHT`] at once per
/// subject, and dropping this stops the unanswered ones with it.
async fn answer_all(client: Client, book: Arc<Book>, mut requests: Subscriber) {
    let mut in_flight = JoinSet::new();
    while let Some(request) = requests.next().await {
        while in_flight.try_join_next().is_some() {}
        if in_flight.len() >= MAX_IN_FLIGHT {
            in_flight.join_next().await;
        }
        let Some(reply_to) = request.reply else {
            tracing::warn!(subject = %request.subject, "ledger command without a reply subject ignored");
            continue;
        };
        let (client, book) = (client.clone(), Arc::clone(&book));
        in_flight.spawn(async move {
            let mut body = answer(&book, request.subject.as_str(), &request.payload).await;
            // A reply NATS would refuse (a report of a long window) must
            // still be answered, never left to time out.
            let max_payload = client.server_info().max_payload;
            if body.len() > max_payload {
                body = reply::<Balance>(Err(Refusal::new(
                    RefusalCode::InvalidRequest,
                    format!(
                        "the reply ({} bytes) exceeds the server's {max_payload}; ask for a shorter window or run `parlor reconcile`",
                        body.len()
                    ),
                )));
            }
            if let Err(error) = client.publish(reply_to, body.into()).await {
                tracing::warn!(%error, "could not send a ledger reply");
            }
        });
    }
}

/// The JSON reply to one request on `subject`.
async fn answer(book: &Book, subject: &str, payload: &[u8]) -> Vec<u8> {
    match subject {
        subject::LEDGER_HOLD => reply(hold(book, payload).await),
        subject::LEDGER_EXTEND => reply(extend(book, payload).await),
        subject::LEDGER_GRANT => reply(grant(book, payload).await),
        subject::LEDGER_GRANT_EXPIRING => reply(grant_expiring(book, payload).await),
        subject::LEDGER_CORRECT => reply(correct(book, payload).await),
        subject::LEDGER_BALANCE => reply(balance(book, payload).await),
        subject::LEDGER_RECONCILE => reply(reconcile(book, payload).await),
        other => reply::<Balance>(Err(Refusal::new(
            RefusalCode::InvalidRequest,
            format!("the ledger does not answer `{other}`"),
        ))),
    }
}

async fn hold(book: &Book, payload: &[u8]) -> Result<HoldPlaced, Refusal> {
    let request: HoldCredits = parse(payload)?;
    let span = tracing::info_span!(
        "hold",
        conversation_id = %request.conversation_id,
        user_id = %request.user_id,
        correlation_id = %request.correlation_id,
    );
    let command = Command::Hold {
        user: request.user_id,
        conversation: request.conversation_id,
        rate: Some(
            book.pricing()
                .rate(Some(&request.agent_id), chrono::Utc::now()),
        ),
    };
    let cause = Cause {
        correlation_id: request.correlation_id,
        causation_id: None,
    };
    let placed = book
        .execute(&command, cause, |state| {
            let account = state.account(AccountId::User(request.user_id));
            let money = account
                .and_then(|a| a.conversations.get(&request.conversation_id))
                .copied()
                .unwrap_or_default();
            let available = account.map(|a| a.balance).unwrap_or_default();
            HoldPlaced {
                held: money.hold.unwrap_or_default(),
                available,
                covers_ms: Some(money.covers_ms),
            }
        })
        .instrument(span.clone())
        .await;
    span.in_scope(|| match &placed {
        Ok(p) => tracing::info!(
            held = p.held.get(),
            available = p.available.get(),
            "hold placed"
        ),
        Err(error) => tracing::info!(%error, "hold not placed"),
    });
    placed.map_err(|e| e.into_refusal())
}

async fn extend(book: &Book, payload: &[u8]) -> Result<HoldExtended, Refusal> {
    let request: ExtendHold = parse(payload)?;
    let span = tracing::info_span!(
        "extend",
        conversation_id = %request.conversation_id,
        user_id = %request.user_id,
        correlation_id = %request.correlation_id,
        period = request.period,
    );
    let command = Command::Extend {
        user: request.user_id,
        conversation: request.conversation_id,
        period: request.period,
    };
    let cause = Cause {
        correlation_id: request.correlation_id,
        causation_id: None,
    };
    let extended = book
        .execute(&command, cause, |state| {
            let account = state.account(AccountId::User(request.user_id));
            let money = account
                .and_then(|a| a.conversations.get(&request.conversation_id))
                .copied()
                .unwrap_or_default();
            let available = account.map(|a| a.balance).unwrap_or_default();
            HoldExtended {
                held: money.hold_open,
                available,
                covers_ms: money.covers_ms,
            }
        })
        .instrument(span.clone())
        .await;
    span.in_scope(|| match &extended {
        Ok(e) => tracing::info!(
            held = e.held.get(),
            covers_ms = e.covers_ms,
            "hold extended"
        ),
        Err(error) => tracing::info!(%error, "hold not extended"),
    });
    extended.map_err(|e| e.into_refusal())
}

async fn grant(book: &Book, payload: &[u8]) -> Result<Balance, Refusal> {
    let request: GrantCredits = parse(payload)?;
    let correlation_id = CorrelationId::new();
    let span = tracing::info_span!(
        "grant",
        user_id = %request.user_id,
        grant_id = %request.grant_id,
        %correlation_id,
    );
    let command = Command::Grant {
        user: request.user_id,
        grant_id: request.grant_id,
        credits: request.credits,
        reason: request.reason,
        expires_at: None,
    };
    balance_after(book, &command, request.user_id, correlation_id, span).await
}

async fn grant_expiring(book: &Book, payload: &[u8]) -> Result<Balance, Refusal> {
    let request: GrantExpiringCredits = parse(payload)?;
    let correlation_id = CorrelationId::new();
    let span = tracing::info_span!(
        "grant",
        user_id = %request.user_id,
        grant_id = %request.grant_id,
        expires_at = %request.expires_at,
        %correlation_id,
    );
    let command = Command::Grant {
        user: request.user_id,
        grant_id: request.grant_id,
        credits: request.credits,
        reason: request.reason,
        expires_at: Some(request.expires_at),
    };
    balance_after(book, &command, request.user_id, correlation_id, span).await
}

async fn correct(book: &Book, payload: &[u8]) -> Result<Balance, Refusal> {
    let request: CorrectCredits = parse(payload)?;
    let correlation_id = CorrelationId::new();
    let span = tracing::info_span!(
        "correct",
        user_id = %request.user_id,
        correction_id = %request.correction_id,
        actor = %request.actor,
        %correlation_id,
    );
    let command = Command::Correct {
        user: request.user_id,
        correction: Correction {
            id: request.correction_id,
            credits: request.credits,
            reason: request.reason,
            actor: request.actor,
        },
    };
    balance_after(book, &command, request.user_id, correlation_id, span).await
}

/// Books an admin command that a request asked for (nothing caused it but
/// the request) and answers the user's balance after it.
async fn balance_after(
    book: &Book,
    command: &Command,
    user: UserId,
    correlation_id: CorrelationId,
    span: tracing::Span,
) -> Result<Balance, Refusal> {
    let cause = Cause {
        correlation_id,
        causation_id: None,
    };
    book.execute(command, cause, |state| state.balance(user))
        .instrument(span)
        .await
        .map_err(|e| e.into_refusal())
}

async fn balance(book: &Book, payload: &[u8]) -> Result<Balance, Refusal> {
    let request: GetBalance = parse(payload)?;
    Ok(book.read(|state| state.balance(request.user_id)))
}

/// The report is computed from the log itself, not from this copy's
/// state, so it is the same whichever copy answers.
async fn reconcile(book: &Book, payload: &[u8]) -> Result<Report, Refusal> {
    let request: Reconcile = parse(payload)?;
    let history = History::load(book.store()).await.map_err(|e| {
        Refusal::new(
            RefusalCode::Unavailable,
            format!("cannot read the log: {e}"),
        )
    })?;
    let window = Window {
        from: request.from,
        to: request.to,
    };
    Ok(reconcile::reconcile(
        &history,
        window,
        &book.pricing().rates.price,
    ))
}

fn parse<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(payload).map_err(|e| {
        Refusal::new(
            RefusalCode::InvalidRequest,
            format!("malformed request: {e}"),
        )
    })
}

fn reply<T: Serialize>(result: Result<T, Refusal>) -> Vec<u8> {
    serde_json::to_vec(&Reply::from(result))
        .unwrap_or_else(|e| unreachable!("replies are plain JSON values: {e}"))
}
