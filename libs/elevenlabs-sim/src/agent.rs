//! Agents: what a simulated agent says, which tools and events it has, and
//! which overrides it accepts. Deserialisable, so the binary reads a JSON
//! file of them.

use serde::{Deserialize, Serialize};

/// The id of the built-in default agent.
pub const DEFAULT_AGENT_ID: &str = "agent_sim_default";

/// One agent, as configured in the dashboard of the real service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentConfig {
    /// `agent_…` id used in URLs.
    pub agent_id: String,
    /// Display name.
    pub name: String,
    /// Spoken when the call starts; `None` or empty makes the agent wait.
    /// `{{var}}` placeholders are filled from `dynamic_variables`.
    pub first_message: Option<String>,
    /// How the agent answers user turns.
    pub responder: Responder,
    /// Client tools the agent may call (their names).
    pub client_tools: Vec<String>,
    /// Server events this agent emits (§1.5); see [`default_client_events`].
    pub client_events: Vec<String>,
    /// Hard limit on the call, in seconds (fractions allowed for tests).
    pub max_duration_secs: f64,
    /// `user_input_audio_format`, e.g. `pcm_16000` or `ulaw_8000`.
    pub input_format: String,
    /// `agent_output_audio_format`.
    pub output_format: String,
    /// Chat mode: no audio is sent.
    pub text_only: bool,
    /// Override paths the agent accepts, e.g. `agent.first_message`,
    /// `agent.prompt.prompt`, `tts.voice_id`; a prefix allows everything
    /// under it.
    pub allowed_overrides: Vec<String>,
    /// Private agents need a signed URL (or `xi-api-key`) to connect.
    pub requires_auth: bool,
    /// Transcripts given to user audio utterances, in order; once used up
    /// an utterance is transcribed as `utterance <n>`.
    pub audio_transcripts: Vec<String>,
    /// System prompt, reported by the agents endpoint.
    pub prompt: String,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            agent_id: DEFAULT_AGENT_ID.to_owned(),
            name: "Simulated agent".to_owned(),
            first_message: Some("Hi! How can I help you today?".to_owned()),
            responder: Responder::default(),
            client_tools: Vec::new(),
            client_events: default_client_events(),
            max_duration_secs: 600.0,
            input_format: "pcm_16000".to_owned(),
            output_format: "pcm_16000".to_owned(),
            text_only: false,
            allowed_overrides: Vec::new(),
            requires_auth: false,
            audio_transcripts: Vec::new(),
            prompt: "You are a helpful assistant.".to_owned(),
        }
    }
}

impl AgentConfig {
    /// The built-in agent: greets, echoes, hangs up on "bye"; accepts the
    /// `conversation.text_only` and `agent.language` overrides.
    pub fn default_agent() -> Self {
        Self {
            allowed_overrides: vec!["conversation.text_only".into(), "agent.language".into()],
            ..Self::default()
        }
    }

    /// A default-shaped agent with another id.
    pub fn new(agent_id: impl Into<String>) -> Self {
        Self {
            agent_id: agent_id.into(),
            ..Self::default()
        }
    }

    /// Whether the agent emits server event `kind`.
    pub fn emits(&self, kind: &str) -> bool {
        self.client_events.iter().any(|e| e == kind)
    }
}

/// The events A-pkg gives as the default, plus the ones a simulator user
/// almost always wants (§1.5 lists them as opt-in on the real service).
pub fn default_client_events() -> Vec<String> {
    [
        "conversation_initiation_metadata",
        "audio",
        "interruption",
        "agent_response",
        "agent_response_correction",
        "user_transcript",
        "tentative_user_transcript",
        "client_tool_call",
        "agent_tool_response",
        "ping",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// How an agent picks its reply to a user turn.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Responder {
    /// Replies `You said: <text>`.
    Echo,
    /// Replies in order; after the last one, echoes.
    Scripted {
        /// The replies.
        replies: Vec<Reply>,
    },
    /// The first rule whose `contains` is in the user text (case-insensitive)
    /// answers; otherwise `fallback`.
    Rules {
        /// The rules, tried in order.
        rules: Vec<Rule>,
        /// Reply when no rule matches.
        fallback: Reply,
    },
}

impl Default for Responder {
    fn default() -> Self {
        Self::Rules {
            rules: vec![Rule {
                contains: "bye".to_owned(),
                reply: Reply {
                    text: "Goodbye!".to_owned(),
                    end_call: true,
                    ..Reply::default()
                },
            }],
            fallback: Reply::text("You said: {text}"),
        }
    }
}

/// One rule of [`Responder::Rules`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    /// Substring to look for, case-insensitive.
    pub contains: String,
    /// What to answer.
    pub reply: Reply,
}

/// One agent turn. `{text}` in `text` becomes the user's words and
/// `{result}` the client tool's result.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Reply {
    /// What the agent says.
    pub text: String,
    /// A client tool to call (and wait for) before speaking.
    pub tool_call: Option<ToolCall>,
    /// Hang up after speaking (`end_call` system tool).
    pub end_call: bool,
}

impl Reply {
    /// A plain spoken reply.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// A client tool invocation the agent makes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolCall {
    /// Must be one of the agent's `client_tools`.
    pub tool_name: String,
    /// Sent as `parameters`.
    #[serde(default)]
    pub parameters: serde_json::Value,
}

impl Responder {
    /// The reply to user turn number `turn` (0-based) saying `text`.
    pub fn reply(&self, turn: usize, text: &str) -> Reply {
        let echo = || Reply::text(format!("You said: {text}"));
        match self {
            Self::Echo => echo(),
            Self::Scripted { replies } => replies.get(turn).cloned().unwrap_or_else(echo),
            Self::Rules { rules, fallback } => {
                let lower = text.to_lowercase();
                rules
                    .iter()
                    .find(|r| lower.contains(&r.contains.to_lowercase()))
                    .map(|r| r.reply.clone())
                    .unwrap_or_else(|| fallback.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_responder_echoes_and_hangs_up_on_bye() {
        let r = Responder::default();
        assert_eq!(r.reply(0, "hello").text, "You said: {text}");
        assert!(r.reply(1, "OK, Bye now").end_call);
    }

    #[test]
    fn scripted_falls_back_to_echo() {
        let r = Responder::Scripted {
            replies: vec![Reply::text("one")],
        };
        assert_eq!(r.reply(0, "x").text, "one");
        assert_eq!(r.reply(1, "x").text, "You said: x");
    }

    #[test]
    fn the_example_agents_file_parses() {
        let agents: Vec<AgentConfig> =
            serde_json::from_str(include_str!("../agents.example.json")).expect("parses");
        assert_eq!(agents.len(), 2);
        assert_eq!(agents[0].client_tools, ["lookup_order"]);
        assert!(agents[1].requires_auth);
    }

    #[test]
    fn agents_file_json_parses_with_defaults() {
        let a: AgentConfig = serde_json::from_str(
            r#"{"agent_id":"agent_x","responder":{"kind":"scripted","replies":[{"text":"hi","end_call":true}]}}"#,
        )
        .expect("parses");
        assert_eq!(a.agent_id, "agent_x");
        assert_eq!(a.input_format, "pcm_16000");
    }
}
