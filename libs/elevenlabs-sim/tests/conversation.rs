//! The WebSocket conversation over raw tokio-tungstenite: §1.7's happy path
//! in text and audio, barge-in, client tools, the endings and close codes.

mod common;

use common::*;
use elevenlabs_sim::{AgentConfig, Reply, Responder, SimConfig, Simulator, TimingConfig, ToolCall};
use futures::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

fn scripted(id: &str, replies: Vec<Reply>) -> AgentConfig {
    AgentConfig {
        responder: Responder::Scripted { replies },
        ..AgentConfig::new(id)
    }
}

#[tokio::test]
async fn text_happy_path_metadata_first_then_turns_then_end_call() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut ws = open(
        &ws_url(&sim, sim.default_agent_id()),
        json!({"conversation": {"text_only": true}, "tts": {}}),
    )
    .await;

    let first = until(&mut ws, "conversation_initiation_metadata").await;
    assert_eq!(first.len(), 1, "metadata must be the first event");
    let meta = &first[0]["conversation_initiation_metadata_event"];
    assert!(
        meta["conversation_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("conv_"))
    );
    assert_eq!(meta["agent_output_audio_format"], "pcm_16000");
    assert_eq!(meta["user_input_audio_format"], "pcm_16000");

    let greeting = until(&mut ws, "agent_response").await;
    assert_eq!(
        greeting.last().expect("event")["agent_response_event"]["agent_response"],
        "Hi! How can I help you today?"
    );

    send(
        &mut ws,
        json!({"type": "user_message", "text": "hello there"}),
    )
    .await;
    let turn = until(&mut ws, "agent_response").await;
    let transcript = of_type(&turn, "user_transcript");
    assert_eq!(
        transcript[0]["user_transcription_event"]["user_transcript"],
        "hello there"
    );
    let reply = &turn.last().expect("reply")["agent_response_event"];
    assert_eq!(reply["agent_response"], "You said: hello there");
    let user_id = transcript[0]["user_transcription_event"]["event_id"]
        .as_u64()
        .expect("id");
    assert!(reply["event_id"].as_u64().expect("id") > user_id);
    assert!(
        of_type(&turn, "audio").is_empty(),
        "text-only sends no audio"
    );

    send(&mut ws, json!({"type": "user_message", "text": "bye"})).await;
    let (events, code, reason) = until_close(&mut ws).await;
    let end = of_type(&events, "agent_tool_response");
    assert_eq!(end[0]["agent_tool_response"]["tool_name"], "end_call");
    assert_eq!(end[0]["agent_tool_response"]["tool_type"], "system");
    assert_eq!((code, reason.as_str()), (Some(1000), "end_call"));
}

#[tokio::test]
async fn audio_turns_have_chunks_sized_to_speech_sharing_the_event_id() {
    let mut agent = AgentConfig::new("agent_audio");
    agent.audio_transcripts = vec!["what time is it".into()];
    let sim = Simulator::start(SimConfig::fast().with_agent(agent))
        .await
        .expect("start");
    let mut ws = open(&ws_url(&sim, "agent_audio"), json!({})).await;
    until(&mut ws, "conversation_initiation_metadata").await;

    // The greeting: 29 chars at 15 chars/s of 16-bit 16 kHz PCM.
    let greeting = until(&mut ws, "agent_response").await;
    let id = greeting.last().expect("event")["agent_response_event"]["event_id"].clone();
    let text_len = "Hi! How can I help you today?".len() as f64;
    let mut audio = Vec::new();
    while audio_bytes(&audio) < ((text_len / 15.0) * 32000.0) as usize - 2 {
        match next(&mut ws).await {
            Frame::Event(e) if e["type"] == "audio" => audio.push(e),
            other => panic!("expected audio, got {other:?}"),
        }
    }
    assert!(audio.iter().all(|a| a["audio_event"]["event_id"] == id));
    assert!(audio.len() > 1, "speech arrives in several chunks");

    speak(&mut ws, 750, 500).await;
    let turn = until(&mut ws, "agent_response").await;
    let transcript = of_type(&turn, "user_transcript");
    assert_eq!(transcript.len(), 1, "one utterance, one transcript");
    assert_eq!(
        transcript[0]["user_transcription_event"]["user_transcript"],
        "what time is it"
    );
    assert_eq!(
        turn.last().expect("reply")["agent_response_event"]["agent_response"],
        "You said: what time is it"
    );

    ws.close(None).await.expect("close");
}

#[tokio::test]
async fn barge_in_interrupts_and_corrects_the_agent_turn() {
    let mut config = SimConfig::fast().with_agent(AgentConfig {
        first_message: Some(
            "This is a long greeting that goes on and on for quite a few seconds of speech.".into(),
        ),
        ..AgentConfig::new("agent_long")
    });
    config.timing = TimingConfig {
        speech_pacing: 1.0,
        ..TimingConfig::fast()
    };
    let sim = Simulator::start(config).await.expect("start");
    let mut ws = open(&ws_url(&sim, "agent_long"), json!({})).await;
    until(&mut ws, "conversation_initiation_metadata").await;
    let response = until(&mut ws, "agent_response").await;
    let id = response.last().expect("event")["agent_response_event"]["event_id"].clone();
    until(&mut ws, "audio").await;

    speak(&mut ws, 250, 0).await;
    let events = until(&mut ws, "agent_response_correction").await;
    let interruption = of_type(&events, "interruption");
    assert_eq!(interruption[0]["interruption_event"]["event_id"], id);
    let correction = &events.last().expect("correction")["agent_response_correction_event"];
    assert_eq!(correction["event_id"], id);
    let corrected = correction["corrected_agent_response"]
        .as_str()
        .expect("text");
    let original = correction["original_agent_response"]
        .as_str()
        .expect("text");
    assert!(original.starts_with(corrected) && corrected.len() < original.len());
    ws.close(None).await.expect("close");
}

#[tokio::test]
async fn client_tool_call_waits_for_the_result() {
    let reply = Reply {
        text: "The weather is {result}.".into(),
        tool_call: Some(ToolCall {
            tool_name: "get_weather".into(),
            parameters: json!({"city": "Oslo"}),
        }),
        end_call: false,
    };
    let agent = AgentConfig {
        client_tools: vec!["get_weather".into()],
        ..scripted("agent_tools", vec![reply])
    };
    let sim = Simulator::start(SimConfig::fast().with_agent(agent))
        .await
        .expect("start");
    let mut ws = open(&ws_url(&sim, "agent_tools"), json!({})).await;
    until(&mut ws, "conversation_initiation_metadata").await;
    send(&mut ws, json!({"type": "user_message", "text": "weather?"})).await;

    let events = until(&mut ws, "client_tool_call").await;
    assert!(of_type(&events, "user_transcript").len() == 1);
    let call = &events.last().expect("call")["client_tool_call"];
    assert_eq!(call["tool_name"], "get_weather");
    assert_eq!(call["parameters"], json!({"city": "Oslo"}));
    let tool_call_id = call["tool_call_id"].clone();

    send(&mut ws, json!({"type": "client_tool_result", "tool_call_id": tool_call_id, "result": "sunny", "is_error": false})).await;
    let events = until(&mut ws, "agent_response").await;
    let response = of_type(&events, "agent_tool_response");
    assert_eq!(
        response[0]["agent_tool_response"]["tool_call_id"],
        tool_call_id
    );
    assert_eq!(response[0]["agent_tool_response"]["tool_type"], "client");
    assert_eq!(
        events.last().expect("reply")["agent_response_event"]["agent_response"],
        "The weather is sunny."
    );
    ws.close(None).await.expect("close");
}

#[tokio::test]
async fn max_duration_sends_the_error_then_closes_1000() {
    let agent = AgentConfig {
        max_duration_secs: 0.3,
        ..AgentConfig::new("agent_short")
    };
    let sim = Simulator::start(SimConfig::fast().with_agent(agent))
        .await
        .expect("start");
    let mut ws = open(&ws_url(&sim, "agent_short"), json!({})).await;
    let (events, code, reason) = until_close(&mut ws).await;
    let error = of_type(&events, "error");
    assert_eq!(
        error[0]["error_event"]["error_type"],
        "max_duration_exceeded"
    );
    assert_eq!(error[0]["error_event"]["code"], 1000);
    assert_eq!(
        (code, reason.as_str()),
        (Some(1000), "max_duration_exceeded")
    );
}

#[tokio::test]
async fn a_disallowed_override_closes_1008_after_metadata() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let mut ws = open(
        &ws_url(&sim, sim.default_agent_id()),
        json!({"agent": {"first_message": "Yo"}}),
    )
    .await;
    let (events, code, reason) = until_close(&mut ws).await;
    assert_eq!(events[0]["type"], "conversation_initiation_metadata");
    assert_eq!(
        of_type(&events, "error")[0]["error_event"]["error_type"],
        "override_error"
    );
    assert_eq!((code, reason.as_str()), (Some(1008), "override_error"));
}

#[tokio::test]
async fn an_allowed_override_and_dynamic_variables_shape_the_greeting() {
    let agent = AgentConfig {
        allowed_overrides: vec!["agent.first_message".into()],
        ..AgentConfig::new("agent_open")
    };
    let sim = Simulator::start(SimConfig::fast().with_agent(agent))
        .await
        .expect("start");
    let mut ws = open(
        &ws_url(&sim, "agent_open"),
        json!({"agent": {"first_message": "Hello {{user_name}}"}}),
    )
    .await;
    let events = until(&mut ws, "agent_response").await;
    assert_eq!(
        events.last().expect("reply")["agent_response_event"]["agent_response"],
        "Hello Ada"
    );
    ws.close(None).await.expect("close");
}

#[tokio::test]
async fn bad_input_closes_1008() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let text = |v: serde_json::Value| Message::Text(v.to_string().into());
    for (bad, error_type) in [
        (text(json!({"type": "no_such_message"})), "invalid_message"),
        (text(json!({"type": "pong"})), "missing_fields"),
        (
            text(json!({"type": "client_tool_result", "result": "x"})),
            "missing_fields",
        ),
        (
            text(json!({"user_audio_chunk": "%%% not base64"})),
            "value_error",
        ),
        (Message::Text("not json".into()), "invalid_message"),
        (Message::Binary(vec![1, 2, 3].into()), "invalid_message"),
    ] {
        let mut ws = open(&ws_url(&sim, sim.default_agent_id()), json!({})).await;
        until(&mut ws, "conversation_initiation_metadata").await;
        ws.send(bad).await.expect("send");
        let (events, code, reason) = until_close(&mut ws).await;
        assert_eq!(
            of_type(&events, "error")[0]["error_event"]["error_type"],
            error_type
        );
        assert_eq!((code, reason.as_str()), (Some(1008), error_type));
    }
}

#[tokio::test]
async fn unknown_agents_are_closed_1008_and_convai_is_echoed() {
    let sim = Simulator::start(SimConfig::fast()).await.expect("start");
    let (mut ws, response) =
        tokio_tungstenite::connect_async(convai_request(&ws_url(&sim, "agent_nope")))
            .await
            .expect("upgrade");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("convai")
    );
    let (events, code, _) = until_close(&mut ws).await;
    assert!(events.is_empty());
    assert_eq!(code, Some(1008));
}

#[tokio::test]
async fn signed_urls_open_private_agents_and_pongs_are_measured() {
    let agent = AgentConfig {
        requires_auth: true,
        ..AgentConfig::new("agent_private")
    };
    let sim = Simulator::start(SimConfig::fast().with_agent(agent))
        .await
        .expect("start");
    let mut public = connect(&ws_url(&sim, "agent_private")).await;
    assert_eq!(until_close(&mut public).await.1, Some(1008));

    let signed: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/v1/convai/conversation/get-signed-url?agent_id=agent_private",
            sim.http_base_url()
        ))
        .header("xi-api-key", sim.api_key())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let url = signed["signed_url"].as_str().expect("signed_url");
    assert!(url.starts_with(&sim.ws_base_url()) && url.contains("conversation_signature="));
    let mut events = sim.subscribe();
    let mut ws = open(&format!("{url}&source=js_sdk&version=1"), json!({})).await;
    until(&mut ws, "conversation_initiation_metadata").await;
    // `next` answers pings; wait for the simulator to see a pong.
    let pong = tokio::time::timeout(WAIT, async {
        loop {
            tokio::select! {
                frame = next(&mut ws) => assert!(matches!(frame, Frame::Event(_)), "{frame:?}"),
                event = events.recv() => if let Ok(elevenlabs_sim::SimEvent::PongReceived { event_id, .. }) = event { return event_id },
            }
        }
    })
    .await
    .expect("a pong");
    assert!(pong > 0);
    ws.close(None).await.expect("close");
}

#[tokio::test]
async fn text_only_agents_stream_chat_parts_when_enabled() {
    let mut agent = AgentConfig {
        text_only: true,
        ..AgentConfig::new("agent_chat")
    };
    agent.client_events.push("agent_chat_response_part".into());
    let sim = Simulator::start(SimConfig::fast().with_agent(agent))
        .await
        .expect("start");
    let mut ws = open(&sim.conversation_url("agent_chat"), json!({})).await;
    let events = until(&mut ws, "agent_response").await;
    let parts: Vec<&str> = of_type(&events, "agent_chat_response_part")
        .iter()
        .map(|p| p["text_response_part"]["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(parts, ["start", "delta", "stop"]);
    ws.close(None).await.expect("close");
}

#[tokio::test]
async fn calls_over_the_concurrency_limit_are_refused_with_429() {
    let config = SimConfig {
        max_concurrent_calls: Some(1),
        ..SimConfig::fast()
    };
    let sim = Simulator::start(config).await.expect("start");
    let url = sim.conversation_url(sim.default_agent_id());
    let mut first = open(&url, json!({})).await;
    until(&mut first, "conversation_initiation_metadata").await;
    let live: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/v1/convai/analytics/live-count",
            sim.http_base_url()
        ))
        .header("xi-api-key", sim.api_key())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(live["count"], 1);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 429),
        other => panic!("expected 429, got {other:?}"),
    }
    first.close(None).await.expect("close");
    let _ = until_close(&mut first).await;
    // The slot frees when the session task ends; poll with a deadline.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if tokio_tungstenite::connect_async(url.as_str()).await.is_ok() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "slot never freed");
        tokio::task::yield_now().await;
    }
}
