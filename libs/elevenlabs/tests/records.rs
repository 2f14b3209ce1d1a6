//! After the call: the REST record and the signed webhook describe the call
//! that happened; list paging and delete.

mod support;

use std::time::Duration;

use elevenlabs::messages::ConversationInitiationClientData;
use elevenlabs::rest::{ConversationStatus, ListQuery, Outcome, Role};
use elevenlabs::{ClientMessage, RestError, WebhookPayload};
use elevenlabs_sim::{AgentConfig, Reply, Responder, SimConfig, Tier, ToolCall, WebhookConfig};
use serde_json::json;
use support::*;

const SECRET: &str = "whsec_records_test_0001";
const POLL: Duration = Duration::from_millis(10);

fn tool_agent() -> AgentConfig {
    AgentConfig {
        text_only: true,
        client_tools: vec!["lookup".into()],
        responder: Responder::Scripted {
            replies: vec![
                Reply {
                    text: "Found {result}.".into(),
                    tool_call: Some(ToolCall {
                        tool_name: "lookup".into(),
                        parameters: json!({"id": 7}),
                    }),
                    end_call: false,
                },
                Reply {
                    text: "Bye now.".into(),
                    end_call: true,
                    ..Reply::default()
                },
            ],
        },
        ..AgentConfig::new("agent_records")
    }
}

#[tokio::test]
async fn record_and_webhook_match_the_call() {
    let mut sink = webhook_sink(SECRET).await;
    let config = SimConfig::fast()
        .with_agent(tool_agent())
        .with_webhook(WebhookConfig::new(&sink.url, SECRET));
    let (sim, endpoints) = start(config).await;
    let init = ConversationInitiationClientData {
        user_id: Some("user_7".into()),
        ..ConversationInitiationClientData::default()
    };
    let mut conversation = connect(&endpoints, "agent_records", init).await;
    let id = conversation.conversation_id().to_owned();
    conversation
        .send(ClientMessage::user_message("find seven"))
        .await
        .unwrap();
    let (call, _) = until(&mut conversation, "the tool call", |e| match e {
        elevenlabs::ServerEvent::ClientToolCall(call) => Some(call.clone()),
        _ => None,
    })
    .await;
    conversation
        .send(ClientMessage::tool_result(
            &call.tool_call_id,
            "item seven",
            false,
        ))
        .await
        .unwrap();
    until(&mut conversation, "the reply", agent_text).await;
    conversation
        .send(ClientMessage::user_message("thanks"))
        .await
        .unwrap();
    drain(&mut conversation).await;
    let end = conversation.finish().await.unwrap();
    assert_eq!(end.kind(), elevenlabs::EndKind::AgentEndedCall);

    let rest = rest(&sim, &endpoints);
    let record = within("done", rest.wait_for_conversation(&id, DEADLINE, POLL))
        .await
        .unwrap();
    assert_eq!(record.status, ConversationStatus::Done);
    assert_eq!(record.agent_id, "agent_records");
    assert_eq!(record.user_id.as_deref(), Some("user_7"));
    let said: Vec<(Role, Option<&str>)> = record
        .transcript
        .iter()
        .map(|turn| (turn.role.clone(), turn.message.as_deref()))
        .collect();
    assert_eq!(
        said,
        vec![
            (Role::Agent, Some("Hi! How can I help you today?")),
            (Role::User, Some("find seven")),
            (Role::Agent, Some("Found item seven.")),
            (Role::User, Some("thanks")),
            (Role::Agent, Some("Bye now.")),
        ]
    );
    let tool_turn = &record.transcript[2];
    assert_eq!(tool_turn.tool_calls[0].request_id, call.tool_call_id);
    assert_eq!(
        tool_turn.tool_results[0].result_value.as_deref(),
        Some("item seven")
    );
    let metadata = &record.metadata;
    let expected_cost = estimate(Tier::Business, metadata.call_duration_secs);
    assert_eq!(metadata.cost, Some(expected_cost));
    let charging = metadata.charging.as_ref().expect("charging");
    assert_eq!(charging.tier.as_deref(), Some("business"));
    assert_eq!(charging.call_charge, Some(expected_cost));
    let analysis = record.analysis.as_ref().expect("analysis");
    assert_eq!(analysis.call_successful, Outcome::Success);

    let delivered = within("the webhook", sink.received.recv())
        .await
        .expect("sink open");
    let event = delivered.expect("signature verifies");
    let WebhookPayload::PostCallTranscription(data) = event.payload else {
        panic!("wrong webhook type");
    };
    assert_eq!(*data, record);
}

#[tokio::test]
async fn list_pages_by_cursor_and_delete_removes() {
    let (sim, endpoints) = start(SimConfig::fast().with_agent(AgentConfig {
        text_only: true,
        ..AgentConfig::new("agent_list")
    }))
    .await;
    let rest = rest(&sim, &endpoints);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let conversation = connect(
            &endpoints,
            "agent_list",
            ConversationInitiationClientData::default(),
        )
        .await;
        ids.push(conversation.conversation_id().to_owned());
        within("close", conversation.close()).await.unwrap();
    }
    let query = ListQuery {
        agent_id: Some("agent_list".into()),
        page_size: Some(2),
        ..ListQuery::default()
    };
    let first = rest.list_conversations(&query).await.unwrap();
    assert_eq!(first.conversations.len(), 2);
    assert!(first.has_more);
    assert!(first.next_cursor.is_some());
    let all = rest.list_all_conversations(&query, 10).await.unwrap();
    let mut listed: Vec<String> = all.into_iter().map(|c| c.conversation_id).collect();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);

    rest.delete_conversation(&ids[0]).await.unwrap();
    assert!(matches!(
        rest.get_conversation(&ids[0]).await,
        Err(RestError::NotFound { .. })
    ));
}

/// Credits for a call of `secs` at the tier's per-minute rate, rounded.
fn estimate(tier: Tier, secs: i64) -> i64 {
    let rate = i64::try_from(tier.credits_per_minute()).unwrap();
    (secs * rate + 30) / 60
}
