//! A long call at a small balance: the hold follows the call one period at
//! a time, and when the user cannot cover the next period the call ends
//! with `credits_exhausted` before the balance goes below zero.

use events::conversation::EndReason;
use events::{ConversationEvent, LedgerEvent};
use serde_json::json;

use super::harness::{E2e, poll_until};
use super::shape::{id_of, status_is};

#[tokio::test]
async fn a_long_call_at_a_small_balance_ends_with_credits_exhausted() {
    // 600 credits a minute is 10 a second; a period of 2 s holds 20.
    let pricing = ledger::Pricing {
        credits_per_minute: 600,
        min_start_secs: 2,
        period_secs: 2,
        ..ledger::Pricing::default()
    };
    let e2e = E2e::start_priced(pricing).await;
    let mut config = parlor::stack::session_config(&e2e.config);
    config.limits.extend_ahead_ms = 500;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let session = tokio::spawn(session::run(config, async {
        let _ = stopped.await;
    }));
    e2e.wait_for_session().await;
    // The start and three more periods; the fourth extension is refused.
    let (user, token) = e2e.user(80).await;
    let call = e2e.connect(&token, json!({})).await.expect("connected");
    let elevenlabs_id = call.conversation_id().to_owned();
    let end = call.finish().await.expect("the client is told");
    assert_eq!(end.code.map(|c| c.as_u16()), Some(1008), "{end:?}");
    assert!(
        end.reason.starts_with("credits_exhausted"),
        "{}",
        end.reason
    );

    let document = e2e.document_of(&elevenlabs_id, |_| true).await;
    let conversation = id_of(&document);
    let events = e2e
        .events_until(conversation, ConversationEvent::is_terminal)
        .await;
    assert!(
        events.iter().any(
            |e| matches!(e, ConversationEvent::Ended(e) if e.reason == EndReason::CreditsExhausted)
        ),
        "{events:#?}"
    );
    // Once charged, the account's events are the call's whole story.
    let (holds, charged) = poll_until("the call charged in the ledger", || async {
        let loaded = e2e
            .store
            .load::<LedgerEvent>(events::AccountId::User(user))
            .await
            .ok()?;
        let (mut holds, mut captured, mut beyond) = (0, None, 0);
        for stored in &loaded.events {
            match &stored.envelope.event {
                LedgerEvent::CreditsHeld(h) if h.conversation_id == conversation => holds += 1,
                LedgerEvent::HoldCaptured(c) if c.conversation_id == conversation => {
                    captured = Some(c.credits.get());
                }
                LedgerEvent::UsageCharged(c) if c.conversation_id == conversation => {
                    beyond = c.credits.get();
                }
                _ => {}
            }
        }
        Some((holds, captured? + beyond))
    })
    .await;
    assert_eq!(holds, 4, "the start hold and one extension per period");
    assert!(
        charged <= 80,
        "our estimate {charged} went past the balance"
    );
    e2e.settled_balance(user, |b| b.held.get() == 0).await;
    e2e.document_of(&elevenlabs_id, status_is("done")).await;
    stop.send(()).expect("running");
    session.await.expect("join").expect("clean stop");
    e2e.stop().await;
}
