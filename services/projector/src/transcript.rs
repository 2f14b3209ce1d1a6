//! The `transcript` field: one `role: text` line per message, joined by `\n`.

use crate::document::Message;

/// The transcript of `messages`, in order; "" when there are none.
pub fn render(messages: &[Message]) -> String {
    messages
        .iter()
        .map(|m| format!("{}: {}", m.role, m.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use mongodb::bson::DateTime;

    use super::*;
    use crate::document::role;

    fn message(role: &str, text: &str) -> Message {
        Message {
            role: role.into(),
            message: text.into(),
            time_in_call_secs: 0,
            at: DateTime::from_millis(0),
            latency_ms: None,
            interrupted: None,
            sentiment: None,
        }
    }

    #[test]
    fn lines_are_role_colon_text_joined_by_newlines() {
        let messages = [
            message(role::AGENT, "Hello, how can I help?"),
            message(role::USER, "Book a table."),
        ];
        assert_eq!(
            render(&messages),
            "agent: Hello, how can I help?\nuser: Book a table."
        );
    }

    #[test]
    fn no_messages_is_an_empty_transcript() {
        assert_eq!(render(&[]), "");
    }
}
