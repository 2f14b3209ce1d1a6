//! Getting in: signed URLs, `xi-api-key` on the upgrade, public agents, the
//! `convai` subprotocol, and the refusals of each.

mod support;

use elevenlabs::messages::ConversationInitiationClientData;
use elevenlabs::{
    ApiKey, CloseCode, ConnectError, Conversation, ConversationOptions, RestError, Target,
};
use elevenlabs_sim::{AgentConfig, SimConfig};
use support::*;

fn private_agent() -> AgentConfig {
    AgentConfig {
        requires_auth: true,
        text_only: true,
        ..AgentConfig::new("agent_private")
    }
}

async fn open(
    endpoints: &elevenlabs::Endpoints,
    target: Target,
    options: &ConversationOptions,
) -> Result<Conversation, ConnectError> {
    within(
        "connect",
        Conversation::connect(
            endpoints,
            target,
            ConversationInitiationClientData::default(),
            options,
        ),
    )
    .await
}

#[tokio::test]
async fn signed_url_opens_a_private_agent() {
    let (sim, endpoints) = start(SimConfig::fast().with_agent(private_agent())).await;
    let rest = rest(&sim, &endpoints);
    assert!(
        !format!("{rest:?}").contains(sim.api_key()),
        "the key never prints"
    );
    let signed = rest.get_signed_url("agent_private").await.unwrap();
    assert_eq!(signed.scheme(), "ws");
    assert!(
        signed
            .query()
            .unwrap_or_default()
            .contains("agent_id=agent_private")
    );
    let conversation = open(
        &endpoints,
        Target::SignedUrl(signed),
        &ConversationOptions::default(),
    )
    .await
    .unwrap();
    let end = within("close", conversation.close()).await.unwrap();
    assert_eq!(end.code, Some(CloseCode::Normal));
    let details = only_record(&rest, &sim).await;
    assert_eq!(
        details.metadata.authorization_method.as_deref(),
        Some("signed_url")
    );
}

#[tokio::test]
async fn api_key_header_opens_a_private_agent_and_a_missing_one_is_refused() {
    let (sim, endpoints) = start(SimConfig::fast().with_agent(private_agent())).await;
    let with_key = Target::Agent {
        agent_id: "agent_private".into(),
        api_key: Some(ApiKey::new(sim.api_key())),
    };
    let options = ConversationOptions {
        request_convai_subprotocol: true,
        ..ConversationOptions::default()
    };
    let conversation = open(&endpoints, with_key, &options).await.unwrap();
    within("close", conversation.close()).await.unwrap();

    let without = Target::Agent {
        agent_id: "agent_private".into(),
        api_key: None,
    };
    match open(&endpoints, without, &ConversationOptions::default()).await {
        Err(ConnectError::ClosedBeforeMetadata(end)) => {
            assert_eq!(end.code, Some(CloseCode::PolicyViolation));
        }
        other => panic!("expected a 1008 refusal, got {other:?}"),
    }
    let wrong_key = Target::Agent {
        agent_id: "agent_private".into(),
        api_key: Some(ApiKey::new("sk_wrong")),
    };
    assert!(matches!(
        open(&endpoints, wrong_key, &ConversationOptions::default()).await,
        Err(ConnectError::ClosedBeforeMetadata(_))
    ));
}

#[tokio::test]
async fn rest_refuses_a_wrong_key_and_an_unknown_conversation() {
    let (sim, endpoints) = start(SimConfig::fast()).await;
    let wrong = elevenlabs::RestClient::new(
        endpoints.clone(),
        ApiKey::new("sk_wrong"),
        elevenlabs::RetryPolicy::default(),
    )
    .unwrap();
    match wrong.get_signed_url(sim.default_agent_id()).await {
        Err(RestError::Unauthorized { status, .. }) => assert_eq!(status, "invalid_api_key"),
        other => panic!("expected 401, got {other:?}"),
    }
    let rest = rest(&sim, &endpoints);
    assert!(matches!(
        rest.get_conversation("conv_does_not_exist").await,
        Err(RestError::NotFound { .. })
    ));
    let too_big = elevenlabs::rest::ListQuery {
        page_size: Some(1000),
        ..Default::default()
    };
    match rest.list_conversations(&too_big).await {
        Err(RestError::Validation { issues }) => assert!(!issues.is_empty()),
        other => panic!("expected 422, got {other:?}"),
    }
}

/// The only conversation the simulator has, once it is final.
async fn only_record(
    rest: &elevenlabs::RestClient,
    sim: &elevenlabs_sim::Simulator,
) -> elevenlabs::rest::ConversationDetails {
    let id = sim
        .conversation_ids()
        .into_iter()
        .next()
        .expect("a conversation");
    within(
        "the record",
        rest.wait_for_conversation(&id, DEADLINE, std::time::Duration::from_millis(10)),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_server_that_does_not_echo_convai_is_rejected() {
    use axum::extract::ws::WebSocketUpgrade;

    // A bare WebSocket endpoint that accepts but never names a subprotocol.
    let app = axum::Router::new().route(
        "/v1/convai/conversation",
        axum::routing::get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(|_socket| async {}) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let endpoints = elevenlabs::Endpoints::from_http_base(&format!("http://{addr}")).unwrap();
    let target = Target::Agent {
        agent_id: "agent_x".into(),
        api_key: None,
    };
    let options = ConversationOptions {
        request_convai_subprotocol: true,
        ..ConversationOptions::default()
    };
    assert!(matches!(
        open(&endpoints, target, &options).await,
        Err(ConnectError::Subprotocol(_))
    ));
}
