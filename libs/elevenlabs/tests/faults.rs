//! Each fault the simulator can inject reaches the caller as a typed error
//! or value.

mod support;

use std::time::Duration;

use elevenlabs::messages::ConversationInitiationClientData;
use elevenlabs::{
    CloseCode, ConnectError, Conversation, ConversationError, ConversationOptions, EndKind,
    ErrorType, RestError, RetryPolicy, Target, WebhookPayload,
};
use elevenlabs_sim::{AgentConfig, Fault, FaultRule, SimConfig, SimEvent, Tier, WebhookConfig};
use support::*;

const SECRET: &str = "whsec_faults_test_00001";
const POLL: Duration = Duration::from_millis(10);

fn text_agent() -> AgentConfig {
    AgentConfig {
        text_only: true,
        ..AgentConfig::new("agent_faults")
    }
}

async fn call_until_end(
    endpoints: &elevenlabs::Endpoints,
) -> (
    String,
    Result<elevenlabs::ConversationEnd, ConversationError>,
) {
    let mut conversation = connect(
        endpoints,
        "agent_faults",
        ConversationInitiationClientData::default(),
    )
    .await;
    let id = conversation.conversation_id().to_owned();
    drain(&mut conversation).await;
    (id, conversation.finish().await)
}

#[tokio::test]
async fn a_dropped_socket_is_connection_lost() {
    let config = SimConfig {
        faults: vec![
            Fault::DropSocket {
                after_agent_turns: 1,
            }
            .into(),
        ],
        ..SimConfig::fast().with_agent(text_agent())
    };
    let (sim, endpoints) = start(config).await;
    let (_, outcome) = call_until_end(&endpoints).await;
    assert!(
        matches!(outcome, Err(ConversationError::ConnectionLost(_))),
        "got {outcome:?}"
    );
    drop(sim);
}

#[tokio::test]
async fn close_1011_is_a_crash_with_its_error() {
    let config = SimConfig {
        faults: vec![
            Fault::Close1011 {
                after_agent_turns: 1,
            }
            .into(),
        ],
        ..SimConfig::fast().with_agent(text_agent())
    };
    let (sim, endpoints) = start(config).await;
    let (_, outcome) = call_until_end(&endpoints).await;
    let end = outcome.unwrap();
    assert_eq!(end.code, Some(CloseCode::InternalError));
    assert_eq!(end.kind(), EndKind::Crashed(CloseCode::InternalError));
    assert_eq!(end.error_type(), Some(ErrorType::UnknownWebsocketCrash));
    drop(sim);
}

#[tokio::test]
async fn a_429_at_the_upgrade_is_refused() {
    let config = SimConfig {
        faults: vec![Fault::RefuseWs429.into()],
        ..SimConfig::fast().with_agent(text_agent())
    };
    let (sim, endpoints) = start(config).await;
    let target = Target::Agent {
        agent_id: "agent_faults".into(),
        api_key: None,
    };
    let refused = within(
        "connect",
        Conversation::connect(
            &endpoints,
            target,
            ConversationInitiationClientData::default(),
            &ConversationOptions::default(),
        ),
    )
    .await;
    match refused {
        Err(ConnectError::Refused { status, body }) => {
            assert_eq!(status, 429);
            assert!(body.contains("too_many_concurrent_requests"));
        }
        other => panic!("expected a 429 refusal, got {other:?}"),
    }
    drop(sim);
}

#[tokio::test]
async fn rest_429_is_retried_then_surfaced_when_it_persists() {
    let (sim, endpoints) = start(SimConfig::fast().with_agent(text_agent())).await;
    let rest = rest(&sim, &endpoints);
    sim.inject(Fault::RefuseRest429);
    rest.get_signed_url("agent_faults")
        .await
        .expect("second attempt succeeds");

    sim.inject(FaultRule::always(Fault::RefuseRest429));
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let strict = elevenlabs::RestClient::new(
        endpoints.clone(),
        elevenlabs::ApiKey::new(sim.api_key()),
        policy,
    )
    .unwrap();
    match strict.get_signed_url("agent_faults").await {
        Err(RestError::RateLimited {
            status, attempts, ..
        }) => {
            assert_eq!(status, "too_many_concurrent_requests");
            assert_eq!(attempts, 3);
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn a_lost_webhook_leaves_the_rest_record_as_the_source() {
    let mut sink = webhook_sink(SECRET).await;
    let config = SimConfig {
        faults: vec![Fault::LoseWebhook.into()],
        ..SimConfig::fast()
            .with_agent(text_agent())
            .with_webhook(WebhookConfig::new(&sink.url, SECRET))
    };
    let (sim, endpoints) = start(config).await;
    let mut sim_events = sim.subscribe();
    let conversation = connect(
        &endpoints,
        "agent_faults",
        ConversationInitiationClientData::default(),
    )
    .await;
    let id = conversation.conversation_id().to_owned();
    within("close", conversation.close()).await.unwrap();
    let lost = id.clone();
    sim_event(&mut sim_events, "the lost webhook", move |e| {
        matches!(e, SimEvent::WebhookLost { conversation_id } if *conversation_id == lost)
            .then_some(())
    })
    .await;
    let record = rest(&sim, &endpoints)
        .wait_for_conversation(&id, DEADLINE, POLL)
        .await
        .unwrap();
    assert!(record.metadata.cost.is_some());
    assert!(sink.received.try_recv().is_err(), "no webhook arrived");
}

#[tokio::test]
async fn a_delayed_webhook_still_verifies_and_matches() {
    let mut sink = webhook_sink(SECRET).await;
    let config = SimConfig {
        faults: vec![Fault::DelayWebhook(Duration::from_millis(200)).into()],
        ..SimConfig::fast()
            .with_agent(text_agent())
            .with_webhook(WebhookConfig::new(&sink.url, SECRET))
    };
    let (sim, endpoints) = start(config).await;
    let conversation = connect(
        &endpoints,
        "agent_faults",
        ConversationInitiationClientData::default(),
    )
    .await;
    let id = conversation.conversation_id().to_owned();
    within("close", conversation.close()).await.unwrap();
    // The record is final before the webhook comes.
    let record = rest(&sim, &endpoints)
        .wait_for_conversation(&id, DEADLINE, POLL)
        .await
        .unwrap();
    let event = within("the webhook", sink.received.recv())
        .await
        .expect("sink open")
        .expect("verifies");
    let WebhookPayload::PostCallTranscription(data) = event.payload else {
        panic!("wrong webhook type");
    };
    assert_eq!(*data, record);
}

#[tokio::test]
async fn a_cost_off_the_duration_estimate_is_reported_as_is() {
    let config = SimConfig {
        faults: vec![Fault::CostDelta(37).into()],
        ..SimConfig::fast().with_agent(text_agent())
    };
    let (sim, endpoints) = start(config).await;
    let conversation = connect(
        &endpoints,
        "agent_faults",
        ConversationInitiationClientData::default(),
    )
    .await;
    let id = conversation.conversation_id().to_owned();
    within("close", conversation.close()).await.unwrap();
    let record = rest(&sim, &endpoints)
        .wait_for_conversation(&id, DEADLINE, POLL)
        .await
        .unwrap();
    let rate = i64::try_from(Tier::Business.credits_per_minute()).unwrap();
    let estimate = (record.metadata.call_duration_secs * rate + 30) / 60;
    assert_eq!(record.metadata.cost, Some(estimate + 37));
}
