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
