//! The rate card over NATS: a hold is priced at the agent's rate in effect
//! when it is placed, and keeps it; a text-only call is priced per message.

use std::sync::Arc;

use events::conversation::{AgentMessage, ConversationEvent, Started, UserMessage};
use events::{ConversationId, Credits, UserId};
use ledger::Pricing;
use ledger::rates::RateCard;

use crate::support::{Harness, balance, drain_until, ended, requested};

#[tokio::test]
async fn a_hold_is_priced_at_its_agents_rate_from_the_rate_card_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rates.json");
    std::fs::write(
        &path,
        r#"{"default_tier": "creator", "rates": [
            {"from": "2020-01-01T00:00:00Z", "agent_id": "agent_test", "tier": "business"},
            {"from": "2999-01-01T00:00:00Z", "agent_id": "agent_test", "credits_per_minute": 1}
        ]}"#,
    )
    .expect("write the card");
    let harness = Harness::start().await;
    let ledger = harness
        .ledger_with(Pricing {
            period_secs: 60,
            ttl_secs: 3_600,
            rates: Arc::new(RateCard::load(&path).expect("a valid card")),
            ..Pricing::default()
        })
        .await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    harness.grant(user, 10_000).await;
    let placed = harness.hold(user, conversation).await.expect("held");
    assert_eq!(placed.held, Credits::new(800), "Business: 800 per minute");
    harness
        .conversation(conversation, user, vec![requested(), ended(90_000)])
        .await;
    drain_until(&ledger, || async {
        ledger.balance(user).await == balance(10_000 - 1_200, 0)
    })
    .await;
    harness.log_balances().await;
}

#[tokio::test]
async fn a_text_only_call_is_charged_per_message_counted_from_its_events() {
    let harness = Harness::start().await;
    let ledger = harness.ledger().await;
    let (user, conversation) = (UserId::new(), ConversationId::new());
    harness.grant(user, 10_000).await;
    harness.hold(user, conversation).await.expect("held");
    let mut events = vec![
        requested(),
        ConversationEvent::Started(Started {
            elevenlabs_conversation_id: "conv_text".to_owned(),
            user_input_audio_format: None,
            agent_output_audio_format: None,
            text_only: true,
        }),
    ];
    for i in 0..3 {
        events.push(ConversationEvent::UserMessage(UserMessage {
            text: format!("question {i}"),
            time_in_call_ms: i * 1_000,
        }));
        events.push(ConversationEvent::AgentMessage(AgentMessage {
            text: format!("answer {i}"),
            time_in_call_ms: i * 1_000 + 500,
            latency_ms: None,
            event_id: None,
        }));
    }
    harness.conversation(conversation, user, events).await;
    drain_until(&ledger, || async {
        harness
            .conversation_charges(conversation)
            .await
            .contains(&"call.priced_per_message")
    })
    .await;
    // Ten minutes of chat: six messages, not ten minutes of audio.
    harness
        .conversation(conversation, user, vec![ended(600_000)])
        .await;
    drain_until(&ledger, || async {
        ledger.balance(user).await == balance(10_000 - 6 * 14, 0)
    })
    .await;
    harness.log_balances().await;
}
