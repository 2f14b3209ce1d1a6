//! Parsing and serialisation against the shapes in the protocol notes.

use serde_json::{Value, json};

use super::*;

fn parse(value: Value) -> ServerEvent {
    ServerEvent::parse(&value.to_string()).unwrap()
}

#[test]
fn real_wire_example_with_type_last() {
    // ISS #241 capture, byte for byte: `type` is the last key.
    let text = r#"{"conversation_initiation_metadata_event":{"conversation_id":"conv_id_123","agent_output_audio_format":"pcm_16000","user_input_audio_format":"pcm_16000"},"type":"conversation_initiation_metadata"}"#;
    let ServerEvent::ConversationInitiationMetadata(metadata) = ServerEvent::parse(text).unwrap()
    else {
        panic!("not metadata");
    };
    assert_eq!(metadata.conversation_id, "conv_id_123");
    assert_eq!(metadata.agent_output_audio_format.encoding(), Some("pcm"));
    assert_eq!(
        metadata.user_input_audio_format.sample_rate_hz(),
        Some(16000)
    );
}

#[test]
fn every_server_event_parses() {
    let cases = [
        json!({"type":"asr_initiation_metadata","asr_initiation_metadata_event":{"x":1}}),
        json!({"type":"audio","audio_event":{"audio_base_64":"AAEC","event_id":1,
            "alignment":{"chars":["H"],"char_start_times_ms":[0],"char_durations_ms":[50]}}}),
        json!({"type":"agent_response","agent_response_event":{"agent_response":"Hi!","event_id":1}}),
        json!({"type":"agent_response_correction","agent_response_correction_event":{
            "original_agent_response":"a b","corrected_agent_response":"a","event_id":4}}),
        json!({"type":"agent_chat_response_part","text_response_part":{"text":"","type":"start","event_id":2}}),
        json!({"type":"agent_reasoning_response_part","reasoning_response_part":{"text":"t","type":"delta","event_id":"e1"}}),
        json!({"type":"user_transcript","user_transcription_event":{"user_transcript":"hello","event_id":3}}),
        json!({"type":"tentative_user_transcript","tentative_user_transcription_event":{"user_transcript":"hel","event_id":3}}),
        json!({"type":"internal_tentative_agent_response","tentative_agent_response_internal_event":{"tentative_agent_response":"…"}}),
        json!({"type":"internal_turn_probability","turn_probability_internal_event":{"turn_probability":0.4}}),
        json!({"type":"interruption","interruption_event":{"event_id":4}}),
        json!({"type":"ping","ping_event":{"event_id":2,"ping_ms":null}}),
        json!({"type":"client_tool_call","client_tool_call":{"tool_name":"lookup","tool_call_id":"t1","parameters":{"q":1},"event_id":5}}),
        json!({"type":"agent_tool_request","agent_tool_request":{"tool_name":"end_call","tool_call_id":"t2","tool_type":"system","event_id":6}}),
        json!({"type":"agent_tool_response","agent_tool_response":{"tool_name":"end_call","tool_call_id":"t2",
            "tool_type":"system","is_error":false,"is_called":true,"event_id":6}}),
        json!({"type":"agent_tool_response_full_payload","agent_tool_response_full_payload":{"tool_name":"x",
            "tool_call_id":"t3","tool_type":"webhook","is_error":false,"is_called":true,"event_id":7,
            "full_tool_result":"{}","is_blocked":false,"truncated":false}}),
        json!({"type":"mcp_tool_call","mcp_tool_call":{"service_id":"s","tool_call_id":"m1","tool_name":"n",
            "parameters":{},"timestamp":"2025-01-01T00:00:00Z","state":"awaiting_approval","approval_timeout_secs":300}}),
        json!({"type":"mcp_connection_status","mcp_connection_status":{"integrations":[
            {"integration_id":"i","integration_type":"mcp_server","is_connected":true,"tool_count":3}]}}),
        json!({"type":"vad_score","vad_score_event":{"vad_score":0.9}}),
        json!({"type":"context_usage","context_usage_event":{"event_id":8,"model":"m","context_tokens":10,"context_limit_tokens":100}}),
        json!({"type":"guardrail_triggered"}),
        json!({"type":"rich_content","rich_content":{"rich_content_id":"r","component":"card","props":{},"event_id":9}}),
        json!({"type":"agent_typing","agent_typing_event":{"is_typing":true,"duration_ms":500}}),
        json!({"type":"external_agent_connected","external_agent_connected_event":{}}),
        json!({"type":"external_agent_disconnected","external_agent_disconnected_event":{}}),
        json!({"type":"error","error_event":{"code":1000,"error_type":"max_duration_exceeded","message":"too long"}}),
    ];
    for case in cases {
        let event = parse(case.clone());
        assert!(
            !matches!(event, ServerEvent::Other(_)),
            "{case} fell through"
        );
        assert_eq!(event.event_type(), case["type"].as_str());
        // Serialising back and parsing again gives the same event.
        assert_eq!(ServerEvent::from_value(event.to_value()).unwrap(), event);
    }
}

#[test]
fn typed_fields_are_read() {
    let ServerEvent::Ping(ping) =
        parse(json!({"ping_event":{"event_id":7,"ping_ms":42},"type":"ping"}))
    else {
        panic!()
    };
    assert_eq!((ping.event_id, ping.ping_ms), (7, Some(42)));
    let ServerEvent::Audio(audio) =
        parse(json!({"type":"audio","audio_event":{"audio_base_64":"AAEC","event_id":1}}))
    else {
        panic!()
    };
    assert_eq!(audio.decode().unwrap(), vec![0, 1, 2]);
    let end_call =
        parse(json!({"type":"agent_tool_response","agent_tool_response":{"tool_name":"end_call"}}));
    assert!(end_call.is_end_call());
    let ServerEvent::Error(error) =
        parse(json!({"type":"error","error_event":{"code":1008,"error_type":"override_error"}}))
    else {
        panic!()
    };
    assert_eq!(error.code, Some(1008));
}

#[test]
fn older_shapes_parse() {
    // A-docs: no event_id on transcripts and responses; D-ws: interruption `{reason}`.
    let ServerEvent::UserTranscript(transcript) = parse(
        json!({"type":"user_transcript","user_transcription_event":{"user_transcript":"hi"}}),
    ) else {
        panic!()
    };
    assert_eq!(transcript.event_id, None);
    let ServerEvent::Interruption(interruption) =
        parse(json!({"type":"interruption","interruption_event":{"reason":"user"}}))
    else {
        panic!()
    };
    assert_eq!(interruption.reason.as_deref(), Some("user"));
    let ServerEvent::AgentToolResponse(response) = parse(json!({"type":"agent_tool_response",
        "agent_tool_response":{"tool_name":"end_call","tool_call_id":"x","tool_type":"system","is_error":false}}))
    else {
        panic!()
    };
    assert_eq!(response.is_called, None);
}

#[test]
fn unknown_types_and_fields_are_tolerated() {
    let keep_alive = json!({"type":"keep_alive","keep_alive_event":{"n":1}});
    assert_eq!(
        parse(keep_alive.clone()),
        ServerEvent::Other(keep_alive.clone())
    );
    assert_eq!(
        ServerEvent::Other(keep_alive.clone()).to_value(),
        keep_alive
    );
    let no_type = json!({"something":"else"});
    assert_eq!(parse(no_type.clone()), ServerEvent::Other(no_type));
    let extra = parse(json!({"type":"agent_response","future":true,
        "agent_response_event":{"agent_response":"Hi","event_id":1,"new_field":[1,2]}}));
    assert!(matches!(extra, ServerEvent::AgentResponse(ref r) if r.agent_response == "Hi"));
    let unknown_part = parse(
        json!({"type":"agent_chat_response_part","text_response_part":{"text":"x","type":"sparkle"}}),
    );
    assert!(
        matches!(unknown_part, ServerEvent::AgentChatResponsePart(ref p) if p.kind == PartKind::Unknown)
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(
        ServerEvent::parse("not json"),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(
        ServerEvent::parse("[1]"),
        Err(ParseError::NotAnObject)
    ));
    let missing = ServerEvent::parse(r#"{"type":"ping","ping_event":{}}"#);
    assert!(
        matches!(missing, Err(ParseError::Body { message_type, .. }) if message_type == "ping")
    );
    assert!(ClientMessage::parse("42").is_err());
}

#[test]
fn client_messages_serialise_as_documented() {
    let mut dynamic_variables = std::collections::BTreeMap::new();
    dynamic_variables.insert("user_name".to_owned(), json!("A"));
    let init = ConversationInitiationClientData {
        conversation_config_override: Some(ConfigOverride {
            agent: Some(AgentOverride {
                prompt: Some(PromptOverride {
                    prompt: Some("Be brief".into()),
                    ..PromptOverride::default()
                }),
                first_message: Some("Hello".into()),
                language: Some("en".into()),
                ..AgentOverride::default()
            }),
            tts: Some(TtsOverride {
                voice_id: Some("v1".into()),
                ..TtsOverride::default()
            }),
            conversation: Some(ConversationOverride {
                text_only: Some(true),
                ..ConversationOverride::default()
            }),
            ..ConfigOverride::default()
        }),
        custom_llm_extra_body: Some(json!({"temperature":0.2})),
        dynamic_variables,
        user_id: Some("u1".into()),
        source_info: Some(SourceInfo {
            source: Some("parlor".into()),
            version: Some("0.1".into()),
        }),
        extra: serde_json::Map::new(),
    };
    let cases = [
        (
            ClientMessage::user_audio(&[0, 1, 2]),
            json!({"user_audio_chunk":"AAEC"}),
        ),
        (ClientMessage::pong(2), json!({"type":"pong","event_id":2})),
        (
            ClientMessage::ConversationInitiationClientData(Box::new(init)),
            json!({"type":"conversation_initiation_client_data",
                "conversation_config_override":{
                    "agent":{"prompt":{"prompt":"Be brief"},"first_message":"Hello","language":"en"},
                    "tts":{"voice_id":"v1"},"conversation":{"text_only":true}},
                "custom_llm_extra_body":{"temperature":0.2},
                "dynamic_variables":{"user_name":"A"},"user_id":"u1",
                "source_info":{"source":"parlor","version":"0.1"}}),
        ),
        (
            ClientMessage::tool_result("t1", "ok", false),
            json!({"type":"client_tool_result","tool_call_id":"t1","result":"ok","is_error":false}),
        ),
        (
            ClientMessage::contextual_update("ctx"),
            json!({"type":"contextual_update","text":"ctx"}),
        ),
        (
            ClientMessage::user_message("hello"),
            json!({"type":"user_message","text":"hello"}),
        ),
        (
            ClientMessage::user_activity(),
            json!({"type":"user_activity"}),
        ),
        (
            ClientMessage::Feedback(Feedback {
                score: Some(FeedbackScore::Like),
                event_id: 4,
            }),
            json!({"type":"feedback","score":"like","event_id":4}),
        ),
        (
            ClientMessage::McpToolApprovalResult(McpToolApprovalResult {
                tool_call_id: "m1".into(),
                is_approved: true,
            }),
            json!({"type":"mcp_tool_approval_result","tool_call_id":"m1","is_approved":true}),
        ),
        (
            ClientMessage::MultimodalMessage(MultimodalMessage::new(
                Some("see".into()),
                Some("f1".into()),
            )),
            json!({"type":"multimodal_message","text":{"type":"user_message","text":"see"},
                "file":{"type":"file_input","file_id":"f1"}}),
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(message.to_value(), expected);
        // And the gateway can read what SDKs send, whatever the key order.
        assert_eq!(
            ClientMessage::parse(&expected.to_string()).unwrap(),
            message
        );
    }
}

#[test]
fn client_parsing_keeps_unknowns() {
    let empty_init = ClientMessage::parse(
        r#"{"conversation_config_override":{"tts":{},"conversation":{},"agent":{"x_new":1}},"type":"conversation_initiation_client_data","mystery":7}"#,
    )
    .unwrap();
    let ClientMessage::ConversationInitiationClientData(init) = &empty_init else {
        panic!()
    };
    assert_eq!(init.extra.get("mystery"), Some(&json!(7)));
    let agent = init
        .conversation_config_override
        .as_ref()
        .and_then(|o| o.agent.as_ref())
        .unwrap();
    assert_eq!(agent.extra.get("x_new"), Some(&json!(1)));
    assert_eq!(empty_init.to_value()["mystery"], json!(7));
    let unknown = json!({"type":"enclave_setup_config","k":1});
    assert_eq!(
        ClientMessage::parse(&unknown.to_string()).unwrap(),
        ClientMessage::Other(unknown)
    );
    assert_eq!(ClientMessage::pong(1).message_type(), Some("pong"));
}
