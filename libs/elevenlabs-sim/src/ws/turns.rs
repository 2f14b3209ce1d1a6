//! What happens inside a conversation: client messages (§1.2), user
//! utterances from text or audio, agent turns, barge-in, client tools.

use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use serde_json::{Value, json};

use super::audio::SPEECH_RMS;
use super::ending::End;
use super::events;
use super::session::{Pending, Session, Utterance};
use super::speech::{Speech, TurnExtras};
use crate::event::SimEvent;
use crate::records::transcript_turn;
use crate::state::new_id;

impl Session {
    /// One client frame; `Some` ends the conversation.
    pub(super) async fn incoming(&mut self, message: Message) -> Option<End> {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return Some(End::bad_input(
                    "invalid_message",
                    "Binary frames are not supported",
                ));
            }
            Message::Close(frame) => {
                return Some(End::ClientClosed {
                    code: frame.map(|f| f.code),
                });
            }
            Message::Ping(_) | Message::Pong(_) => return None,
        };
        let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
            return Some(End::bad_input(
                "invalid_message",
                "Message is not valid JSON",
            ));
        };
        if let Some(chunk) = value.get("user_audio_chunk") {
            return self.on_audio(chunk).await;
        }
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let str_field = |name: &str| value.get(name).and_then(Value::as_str);
        match kind {
            "pong" => {
                let Some(id) = value.get("event_id").and_then(Value::as_u64) else {
                    return Some(End::bad_input("missing_fields", "pong requires event_id"));
                };
                if let Some(sent) = self.pings.remove(&id) {
                    let rtt = sent.elapsed();
                    self.last_rtt_ms = Some(rtt.as_millis() as u64);
                    self.shared.emit(SimEvent::PongReceived {
                        conversation_id: self.conversation_id.clone(),
                        event_id: id,
                        rtt,
                    });
                }
                None
            }
            "client_tool_result" => {
                let Some(id) = str_field("tool_call_id").map(str::to_owned) else {
                    return Some(End::bad_input(
                        "missing_fields",
                        "client_tool_result requires tool_call_id",
                    ));
                };
                let result = match value.get("result") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let is_error = value
                    .get("is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                self.on_tool_result(&id, result, is_error).await
            }
            "contextual_update" => match str_field("text") {
                Some(_) => None,
                None => Some(End::bad_input(
                    "missing_fields",
                    "contextual_update requires text",
                )),
            },
            "user_message" => match str_field("text").filter(|t| !t.trim().is_empty()) {
                Some(text) => self.on_user_turn(text.to_owned(), "text").await,
                None => None,
            },
            "multimodal_message" => {
                let text = value.pointer("/text/text").and_then(Value::as_str);
                match text.filter(|t| !t.trim().is_empty()) {
                    Some(text) => self.on_user_turn(text.to_owned(), "text").await,
                    None => None,
                }
            }
            "feedback" => {
                let score = str_field("score").filter(|s| matches!(*s, "like" | "dislike"));
                match (score, value.get("event_id").and_then(Value::as_u64)) {
                    (Some(score), Some(event_id)) => self.on_feedback(score.to_owned(), event_id),
                    (None, Some(_)) => {}
                    (_, None) => {
                        return Some(End::bad_input(
                            "missing_fields",
                            "feedback requires event_id",
                        ));
                    }
                }
                None
            }
            "conversation_initiation_client_data"
            | "user_activity"
            | "mcp_tool_approval_result"
            | "enclave_setup_config" => None,
            _ => Some(End::bad_input(
                "invalid_message",
                format!("Unknown message type '{kind}'"),
            )),
        }
    }

    /// A `user_audio_chunk`: level detection, barge-in, end of utterance.
    async fn on_audio(&mut self, chunk: &Value) -> Option<End> {
        let Some(bytes) = chunk.as_str().and_then(|c| STANDARD.decode(c).ok()) else {
            return Some(End::bad_input(
                "value_error",
                "user_audio_chunk must be base64 audio",
            ));
        };
        let duration = self.input.duration_of(bytes.len());
        self.has_user_audio = true;
        let voiced = self.input.rms(&bytes) > SPEECH_RMS;
        if self.agent.emits("vad_score") {
            let score = if voiced { 0.95 } else { 0.02 };
            if let Some(end) = self.send(&events::vad_score(score)).await {
                return Some(end);
            }
        }
        if voiced {
            match self.utterance.as_mut() {
                Some(utterance) => utterance.silence = Duration::ZERO,
                None => {
                    self.utterance = Some(Utterance::default());
                    if let Some(end) = self.interrupt().await {
                        return Some(end);
                    }
                }
            }
            return None;
        }
        let ended = match self.utterance.as_mut() {
            Some(utterance) => {
                utterance.silence += duration;
                utterance.silence >= self.shared.timing.utterance_end_silence
            }
            None => false,
        };
        if !ended {
            return None;
        }
        self.utterance = None;
        let text = self
            .agent
            .audio_transcripts
            .get(self.audio_transcripts_used)
            .cloned()
            .unwrap_or_else(|| format!("utterance {}", self.audio_transcripts_used + 1));
        self.audio_transcripts_used += 1;
        self.on_user_turn(text, "audio").await
    }

    /// Barge-in: cut the agent's turn where the user started talking.
    async fn interrupt(&mut self) -> Option<End> {
        let speech = self.speaking.take()?;
        let now = Instant::now();
        let heard = speech.heard_text(now);
        if self.agent.emits("interruption")
            && let Some(end) = self.send(&events::interruption(speech.event_id)).await
        {
            return Some(end);
        }
        if self.agent.emits("agent_response_correction") {
            let correction = events::correction(&speech.text, &heard, speech.event_id);
            if let Some(end) = self.send(&correction).await {
                return Some(end);
            }
        }
        let mut turn = self.agent_turn(&speech, &heard);
        turn.insert("interrupted".into(), json!(true));
        turn.insert("original_message".into(), json!(speech.text));
        self.push_turn(Value::Object(turn));
        self.agent_turns += 1;
        None
    }

    /// A final user utterance: transcript, then a reply after the latency.
    async fn on_user_turn(&mut self, text: String, medium: &str) -> Option<End> {
        if medium == "text"
            && let Some(end) = self.interrupt().await
        {
            return Some(end);
        }
        // Recorded before it is announced, so a client that saw the
        // transcript finds it in the REST record too.
        let turn = transcript_turn("user", &text, self.time_in_call(), Some(medium));
        self.push_turn(Value::Object(turn));
        let id = self.event_id();
        // Interim ASR only exists for speech.
        if medium == "audio"
            && self.agent.emits("tentative_user_transcript")
            && let Some(end) = self
                .send(&events::tentative_user_transcript(&text, id))
                .await
        {
            return Some(end);
        }
        if self.agent.emits("user_transcript")
            && let Some(end) = self.send(&events::user_transcript(&text, id)).await
        {
            return Some(end);
        }
        let reply = self.agent.responder.reply(self.user_turns, &text);
        self.user_turns += 1;
        let timing = &self.shared.timing;
        let jitter_ms = timing.turn_latency_jitter.as_millis() as u64;
        let jitter = Duration::from_millis(self.rng.gen_range(0..=jitter_ms));
        let latency = timing.turn_latency + jitter;
        self.queue.push_back(Pending {
            at: Instant::now() + latency,
            reply,
            user_text: text,
            latency,
        });
        None
    }

    /// Sends `agent_response` and starts the turn's audio.
    pub(super) async fn start_speech(&mut self, text: String, extras: TurnExtras) {
        let id = self.event_id();
        if self.output.is_none() && self.agent.emits("agent_chat_response_part") {
            for (kind, part) in [("start", ""), ("delta", text.as_str()), ("stop", "")] {
                let _ = self.send(&events::chat_part(kind, part, id)).await;
            }
        }
        if self.agent.emits("agent_response") {
            // A send failure surfaces on the next receive.
            let _ = self.send(&events::agent_response(&text, id)).await;
        }
        let output = self.output.filter(|_| self.agent.emits("audio"));
        let mut speech = Speech::new(text, id, output, &self.shared.timing, extras);
        speech.time_in_call = self.time_in_call();
        self.speaking = Some(speech);
    }

    /// Sends the audio due by `now`; ends the turn when it has played out.
    pub(super) async fn pace_speech(&mut self, now: Instant) -> Option<End> {
        let speech = self.speaking.as_mut()?;
        let event_id = speech.event_id;
        let chunks = speech.due_chunks(now);
        let finished = speech.finished(now);
        for chunk in chunks {
            self.has_response_audio = true;
            if let Some(end) = self.send(&events::audio(&chunk, event_id)).await {
                return Some(end);
            }
        }
        if !finished {
            return None;
        }
        let speech = self.speaking.take()?;
        let turn = self.agent_turn(&speech, &speech.text);
        self.push_turn(Value::Object(turn));
        self.agent_turns += 1;
        if !speech.extras.end_call {
            return None;
        }
        if self.agent.emits("agent_tool_response") {
            let id = self.event_id();
            let event =
                events::agent_tool_response("end_call", &new_id("toolu_"), "system", false, id);
            if let Some(end) = self.send(&event).await {
                return Some(end);
            }
        }
        Some(End::AgentEndCall)
    }

    /// A like or dislike of agent turn `event_id`: on that transcript
    /// entry and in `metadata.feedback`.
    fn on_feedback(&mut self, score: String, event_id: u64) {
        let time_in_call = self.time_in_call().as_secs();
        let rated = self
            .transcript
            .iter_mut()
            .find(|t| t["role"] == "agent" && t["source_event_id"] == event_id);
        if let Some(turn) = rated {
            turn["feedback"] = json!({"score": score, "time_in_call_secs": time_in_call});
        }
        let transcript = self.transcript.clone();
        self.shared.records.update(&self.conversation_id, |r| {
            r.transcript = transcript;
            r.feedback.rate(score);
        });
    }

    /// The transcript entry of an agent turn that said `said`.
    fn agent_turn(&self, speech: &Speech, said: &str) -> serde_json::Map<String, Value> {
        let mut turn = transcript_turn(
            "agent",
            said,
            speech.time_in_call,
            self.output.map(|_| "audio").or(Some("text")),
        );
        turn.insert("source_event_id".into(), json!(speech.event_id));
        turn.insert("tool_calls".into(), json!(speech.extras.tool_calls));
        turn.insert("tool_results".into(), json!(speech.extras.tool_results));
        if let Some(latency) = speech.extras.latency {
            turn.insert(
                "conversation_turn_metrics".into(),
                json!({"metrics": {"convai_llm_service_ttfb": {"elapsed_time": latency.as_secs_f64()}}}),
            );
        }
        turn
    }
}

/// `{text}` → the user's words, `{result}` → the tool result.
pub(super) fn fill(template: &str, user_text: &str, result: &str) -> String {
    template
        .replace("{text}", user_text)
        .replace("{result}", result)
}
