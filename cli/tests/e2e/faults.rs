//! Copies that die: a session copy killed while another runs leaves its
//! calls to the survivor, which closes them as `session_lost` and releases
//! their holds without the dead copy ever coming back.

use std::time::Duration;

use elevenlabs::{CloseCode, ServerEvent};
use events::ConversationEvent;
use events::conversation::FailureReason;
use serde_json::json;

use super::harness::{E2e, doomed_session};
use super::shape::{id_of, status_is};

const GRANT: i64 = 10_000;

#[tokio::test]
async fn a_killed_session_copy_is_swept_by_a_survivor() {
    let e2e = E2e::start_without_session().await;
    let mut doomed_config = parlor::stack::session_config(&e2e.config);
    doomed_config.instance = "doomed".to_owned();
    doomed_config.owner_timeout = Duration::from_secs(3);
    let doomed = doomed_session(&e2e, doomed_config.clone()).await;
    let init = json!({"conversation_config_override": {"conversation": {"text_only": true}}});
    let mut calls = Vec::new();
    for _ in 0..3 {
        let (user, token) = e2e.user(GRANT).await;
        let mut call = e2e.connect(&token, init.clone()).await.expect("connected");
        let Some(ServerEvent::AgentResponse(_)) = call.next_event().await else {
            panic!("greeting")
        };
        calls.push((user, call));
    }

    // The survivor starts while the doomed copy still runs: it must not
    // touch calls whose owner is alive, only those of an owner gone silent.
    let mut survivor_config = doomed_config;
    survivor_config.instance = "survivor".to_owned();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let survivor = tokio::spawn(session::run(survivor_config, async {
        let _ = stopped.await;
    }));
    doomed.shutdown_background();

    for (user, call) in calls {
        let elevenlabs_id = call.conversation_id().to_owned();
        let end = call.finish().await.expect("the client is told");
        assert_eq!(end.code, Some(CloseCode::InternalError));
        let document = e2e.document_of(&elevenlabs_id, status_is("failed")).await;
        let events = e2e
            .events_until(id_of(&document), ConversationEvent::is_terminal)
            .await;
        let lost = events.iter().filter(
            |e| matches!(e, ConversationEvent::Failed(f) if f.reason == FailureReason::SessionLost),
        );
        assert_eq!(lost.count(), 1, "{events:#?}");
        e2e.settled_balance(user, |b| b.held.get() == 0).await;
        e2e.no_open_upstream(&elevenlabs_id).await;
    }
    stop.send(()).expect("running");
    survivor.await.expect("join").expect("clean stop");
    e2e.stop().await;
}
