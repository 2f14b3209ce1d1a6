//! The JSON of each server → client event (§1.3), written from the spec.

use serde_json::{Value, json};

pub(crate) fn metadata(conversation_id: &str, output_format: &str, input_format: &str) -> Value {
    json!({
        "type": "conversation_initiation_metadata",
        "conversation_initiation_metadata_event": {
            "conversation_id": conversation_id,
            "agent_output_audio_format": output_format,
            "user_input_audio_format": input_format,
        },
    })
}

pub(crate) fn agent_response(text: &str, event_id: u64) -> Value {
    json!({
        "type": "agent_response",
        "agent_response_event": {"agent_response": text, "event_id": event_id},
    })
}

pub(crate) fn audio(audio_base_64: &str, event_id: u64) -> Value {
    json!({
        "type": "audio",
        "audio_event": {"audio_base_64": audio_base_64, "event_id": event_id},
    })
}

pub(crate) fn chat_part(kind: &str, text: &str, event_id: u64) -> Value {
    json!({
        "type": "agent_chat_response_part",
        "text_response_part": {"text": text, "type": kind, "event_id": event_id},
    })
}

pub(crate) fn user_transcript(text: &str, event_id: u64) -> Value {
    json!({
        "type": "user_transcript",
        "user_transcription_event": {"user_transcript": text, "event_id": event_id},
    })
}

pub(crate) fn tentative_user_transcript(text: &str, event_id: u64) -> Value {
    json!({
        "type": "tentative_user_transcript",
        "tentative_user_transcription_event": {"user_transcript": text, "event_id": event_id},
    })
}

pub(crate) fn interruption(event_id: u64) -> Value {
    json!({"type": "interruption", "interruption_event": {"event_id": event_id}})
}

pub(crate) fn correction(original: &str, corrected: &str, event_id: u64) -> Value {
    json!({
        "type": "agent_response_correction",
        "agent_response_correction_event": {
            "original_agent_response": original,
            "corrected_agent_response": corrected,
            "event_id": event_id,
        },
    })
}

pub(crate) fn ping(event_id: u64, ping_ms: Option<u64>) -> Value {
    json!({"type": "ping", "ping_event": {"event_id": event_id, "ping_ms": ping_ms}})
}

pub(crate) fn client_tool_call(
    tool_name: &str,
    tool_call_id: &str,
    parameters: &Value,
    event_id: u64,
) -> Value {
    json!({
        "type": "client_tool_call",
        "client_tool_call": {
            "tool_name": tool_name,
            "tool_call_id": tool_call_id,
            "parameters": parameters,
            "event_id": event_id,
        },
    })
}

pub(crate) fn agent_tool_response(
    tool_name: &str,
    tool_call_id: &str,
    tool_type: &str,
    is_error: bool,
    event_id: u64,
) -> Value {
    json!({
        "type": "agent_tool_response",
        "agent_tool_response": {
            "tool_name": tool_name,
            "tool_call_id": tool_call_id,
            "tool_type": tool_type,
            "is_error": is_error,
            "is_called": true,
            "event_id": event_id,
        },
    })
}

pub(crate) fn vad_score(score: f64) -> Value {
    json!({"type": "vad_score", "vad_score_event": {"vad_score": score}})
}

pub(crate) fn error(code: u16, error_type: &str, message: &str) -> Value {
    json!({
        "type": "error",
        "error_event": {"code": code, "error_type": error_type, "message": message, "reason": error_type},
    })
}
