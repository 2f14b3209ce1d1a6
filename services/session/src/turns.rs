//! What the wire says, as domain events: which server events become
//! conversation events, and the turn latency (user transcript → first
//! agent response of the turn). Pure: times come in as milliseconds since
//! the call started.

use elevenlabs::ServerEvent;
use events::ConversationEvent;
use events::conversation::{
    AgentMessage, AgentMessageCorrected, Interrupted, ToolCalled, UserMessage,
};

/// The state the translation keeps between events of one call.
#[derive(Debug, Default)]
pub struct Turns {
    /// When the user's turn began (its first transcribed utterance), until
    /// the agent answers.
    awaiting_answer_since_ms: Option<u64>,
}

impl Turns {
    /// The domain event for `event` at `at_ms` into the call, if it is one.
    pub fn on_event(&mut self, event: &ServerEvent, at_ms: u64) -> Option<ConversationEvent> {
        match event {
            ServerEvent::UserTranscript(t) => {
                // A second utterance before the answer belongs to the same turn.
                self.awaiting_answer_since_ms.get_or_insert(at_ms);
                Some(ConversationEvent::UserMessage(UserMessage {
                    text: t.user_transcript.clone(),
                    time_in_call_ms: at_ms,
                }))
            }
            ServerEvent::AgentResponse(r) => Some(ConversationEvent::AgentMessage(AgentMessage {
                text: r.agent_response.clone(),
                time_in_call_ms: at_ms,
                latency_ms: self
                    .awaiting_answer_since_ms
                    .take()
                    .map(|since| at_ms.saturating_sub(since)),
                event_id: r.event_id,
            })),
            ServerEvent::AgentResponseCorrection(c) => Some(
                ConversationEvent::AgentMessageCorrected(AgentMessageCorrected {
                    original: c.original_agent_response.clone(),
                    corrected: c.corrected_agent_response.clone(),
                    event_id: c.event_id,
                    time_in_call_ms: at_ms,
                }),
            ),
            ServerEvent::Interruption(i) => Some(ConversationEvent::Interrupted(Interrupted {
                event_id: i.event_id,
                time_in_call_ms: at_ms,
            })),
            ServerEvent::ClientToolCall(call) => Some(ConversationEvent::ToolCalled(ToolCalled {
                tool_call_id: call.tool_call_id.clone(),
                tool_name: call.tool_name.clone(),
                parameters: call.parameters.clone(),
                time_in_call_ms: at_ms,
            })),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(value: serde_json::Value) -> ServerEvent {
        ServerEvent::from_value(value).expect("a valid server event")
    }

    #[test]
    fn latency_runs_from_the_user_transcript_to_the_first_agent_response() {
        let mut turns = Turns::default();
        let greeting = event(
            json!({"type": "agent_response", "agent_response_event": {"agent_response": "Hi", "event_id": 1}}),
        );
        let Some(ConversationEvent::AgentMessage(first)) = turns.on_event(&greeting, 0) else {
            panic!("agent message expected");
        };
        assert_eq!(first.latency_ms, None, "nobody asked for the greeting");

        let heard = event(
            json!({"user_transcription_event": {"user_transcript": "hello", "event_id": 2}, "type": "user_transcript"}),
        );
        let Some(ConversationEvent::UserMessage(user)) = turns.on_event(&heard, 1_000) else {
            panic!("user message expected");
        };
        assert_eq!((user.text.as_str(), user.time_in_call_ms), ("hello", 1_000));

        let answer = event(
            json!({"type": "agent_response", "agent_response_event": {"agent_response": "Hey", "event_id": 3}}),
        );
        let Some(ConversationEvent::AgentMessage(reply)) = turns.on_event(&answer, 1_450) else {
            panic!("agent message expected");
        };
        assert_eq!(reply.latency_ms, Some(450));
        assert_eq!(reply.event_id, Some(3));
        let Some(ConversationEvent::AgentMessage(more)) = turns.on_event(&answer, 1_900) else {
            panic!("agent message expected");
        };
        assert_eq!(
            more.latency_ms, None,
            "only the first response of a turn has a latency"
        );
    }

    #[test]
    fn barge_in_tools_and_noise() {
        let mut turns = Turns::default();
        let interruption =
            event(json!({"type": "interruption", "interruption_event": {"event_id": 4}}));
        assert!(matches!(
            turns.on_event(&interruption, 10),
            Some(ConversationEvent::Interrupted(Interrupted {
                event_id: Some(4),
                time_in_call_ms: 10
            }))
        ));
        let correction = event(
            json!({"type": "agent_response_correction", "agent_response_correction_event": {"original_agent_response": "a b c", "corrected_agent_response": "a", "event_id": 4}}),
        );
        assert!(
            matches!(turns.on_event(&correction, 11), Some(ConversationEvent::AgentMessageCorrected(c)) if c.corrected == "a")
        );
        let tool = event(
            json!({"type": "client_tool_call", "client_tool_call": {"tool_name": "lookup", "tool_call_id": "t1", "parameters": {"q": 1}, "event_id": 5}}),
        );
        assert!(
            matches!(turns.on_event(&tool, 12), Some(ConversationEvent::ToolCalled(t)) if t.tool_name == "lookup")
        );
        let ping = event(json!({"type": "ping", "ping_event": {"event_id": 6}}));
        assert_eq!(turns.on_event(&ping, 13), None);
        let unknown = event(json!({"type": "keep_alive"}));
        assert_eq!(turns.on_event(&unknown, 14), None);
    }
}
