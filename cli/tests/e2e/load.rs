//! Many conversations at once through one gateway.

use std::collections::HashMap;

use elevenlabs::{ClientMessage, EndKind, ServerEvent};
use events::{ConversationId, LedgerEvent};
use eventstore::{ReplayFrom, StreamName};
use futures::TryStreamExt;
use serde_json::json;

use super::harness::E2e;

const CALLS: usize = 50;
const GRANT: i64 = 10_000;

#[tokio::test]
async fn fifty_conversations_at_once_all_complete_and_each_is_charged_once() {
    let e2e = E2e::start().await;
    let mut users = Vec::new();
    for _ in 0..CALLS {
        users.push(e2e.user(GRANT).await);
    }
    let calls = users.iter().map(|(_, token)| {
        let e2e = &e2e;
        async move {
            let mut call = e2e
                .connect(
                    token,
                    json!({"conversation_config_override": {"conversation": {"text_only": true}}}),
                )
                .await
                .expect("connected");
            let id = call.conversation_id().to_owned();
            let mut said = false;
            while let Some(event) = call.next_event().await {
                if let ServerEvent::AgentResponse(_) = event
                    && !said
                {
                    call.send(ClientMessage::user_message("bye"))
                        .await
                        .expect("send");
                    said = true;
                }
            }
            let end = call.finish().await.expect("ended");
            assert_eq!(end.kind(), EndKind::AgentEndedCall);
            id
        }
    });
    let elevenlabs_ids = futures::future::join_all(calls).await;
    assert_eq!(elevenlabs_ids.len(), CALLS);

    let mut conversations = Vec::new();
    for id in &elevenlabs_ids {
        let document = e2e
            .document_of(id, |d| d.get_str("status") == Ok("done"))
            .await;
        conversations.push(ConversationId::from_bytes(
            document.get_object_id("_id").expect("_id").bytes(),
        ));
    }
    for (user, _) in &users {
        e2e.settled_balance(*user, |b| b.held.get() == 0 && b.available.get() < GRANT)
            .await;
    }

    // Each conversation's duration charge appears exactly once in the ledger.
    let ledger: Vec<_> = e2e
        .store
        .replay(StreamName::Ledger, ReplayFrom::Beginning)
        .await
        .expect("replay")
        .try_collect()
        .await
        .expect("read");
    let mut captures: HashMap<ConversationId, usize> = HashMap::new();
    for message in &ledger {
        if let Ok(envelope) = message.decode::<LedgerEvent>()
            && let LedgerEvent::HoldCaptured(c) = envelope.event
        {
            *captures.entry(c.conversation_id).or_default() += 1;
        }
    }
    for conversation in &conversations {
        assert_eq!(
            captures.get(conversation),
            Some(&1),
            "conversation {conversation} charged once"
        );
    }
    e2e.stop().await;
}

/// `parlor load` at small N, every kind of abuse beside polite calls: each
/// ends as documented, the books balance, the read models catch up and no
/// upstream is left open.
#[tokio::test]
async fn parlor_load_with_every_abuse_ends_every_call_as_documented() {
    let e2e = E2e::start().await;
    let target = parlor::load::Target {
        gateway: elevenlabs::Endpoints::from_http_base(&e2e.gateway_http()).expect("gateway"),
        simulator: elevenlabs::Endpoints::from_http_base(&e2e.sim.http_base_url()).expect("sim"),
        simulator_key: elevenlabs::ApiKey::new(e2e.sim.api_key()),
        agent_id: e2e.sim.default_agent_id().to_owned(),
        jwt_secret: e2e.secret.clone(),
        nats: e2e.client.clone(),
        conversations: e2e.conversations.clone(),
    };
    let config = parlor::load::LoadConfig {
        calls: 12,
        turns: 4,
        floods: 2,
        oversized: 2,
        vanishing: 2,
        drops: 2,
        flood_messages: 2_000,
    };
    let report = parlor::load::run(&target, &config).await.expect("load ran");
    assert!(report.errors.is_empty(), "{report}");
    assert_eq!(report.relayed.turns, 4 * 4 + 2 * 2, "{report}");
    assert_eq!(report.direct.turns, 4 * 4, "{report}");
    assert_eq!(report.endings.get("flood → 1008"), Some(&2), "{report}");
    assert_eq!(report.endings.get("polite → 1005"), Some(&4), "{report}");
    assert_eq!(report.trial_balance, 0);
    assert!(report.projector_lag.is_some(), "{report}");
    for id in e2e.sim.conversation_ids() {
        e2e.no_open_upstream(&id).await;
    }
    e2e.stop().await;
}
