//! `price per message`: a call that turned out text-only (no audio) is
//! charged per message rather than per minute, at the rate in effect when
//! it started. Once its charge is booked nothing changes it any more but
//! ElevenLabs' report.

use events::ConversationId;
use events::ledger::{CallPricedPerMessage, LedgerEvent};

use crate::account::Account;

pub fn decide(
    account: &Account,
    conversation: ConversationId,
    credits_per_message: u32,
) -> Vec<LedgerEvent> {
    let money = account
        .conversations
        .get(&conversation)
        .copied()
        .unwrap_or_default();
    if money.per_message.is_some() || money.is_charged() {
        return Vec::new();
    }
    vec![LedgerEvent::CallPricedPerMessage(CallPricedPerMessage {
        conversation_id: conversation,
        credits_per_message,
    })]
}

#[cfg(test)]
mod tests {
    use events::{ConversationId, UserId};

    use crate::decide::Command;
    use crate::given::{charge, given, grant, hold, types};

    fn text_only(user: UserId, conversation: ConversationId) -> Command {
        Command::PricePerMessage {
            user,
            conversation,
            credits_per_message: 14,
        }
    }

    fn charge_messages(user: UserId, conversation: ConversationId, messages: u32) -> Command {
        Command::Charge {
            user,
            conversation,
            duration_ms: 600_000,
            rate: None,
            messages: Some(messages),
        }
    }

    #[test]
    fn a_text_only_call_pays_per_message_not_per_minute() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        let command = text_only(user, conversation);
        let events = ledger.when(&command).expect("priced");
        assert_eq!(types(&events), ["call.priced_per_message"]);
        ledger.then(&command, events);
        assert_eq!(ledger.when(&command), Ok(Vec::new()), "once");
        ledger.book(&charge_messages(user, conversation, 6));
        assert_eq!(ledger.available(user), 10_000 - 6 * 14, "not ten minutes");
    }

    #[test]
    fn a_call_already_charged_is_not_priced_again_and_an_audio_call_ignores_counts() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let ledger = given(&[
            grant(user, 10_000),
            hold(user, conversation),
            charge(user, conversation, 60_000),
        ]);
        assert_eq!(ledger.when(&text_only(user, conversation)), Ok(Vec::new()));
        let audio = ConversationId::new();
        let mut ledger = given(&[grant(user, 10_000), hold(user, audio)]);
        ledger.book(&charge_messages(user, audio, 6));
        assert_eq!(ledger.available(user), 10_000 - 4_000, "ten minutes at 400");
    }
}
