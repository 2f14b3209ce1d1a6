//! `extend`: a running call's hold grows by one more period, asked for by
//! the session before the covered time runs out; a user who cannot pay for
//! the next period is refused, and the session ends the call.

use events::command::{Refusal, RefusalCode};
use events::ledger::{CreditsHeld, LedgerEvent};
use events::{AccountId, ConversationId, Posting, SystemAccount, UserId};

use crate::account::Account;
use crate::pricing::{Pricing, covers_ms};

/// Extends by exactly one period, at the rate the call was held at.
/// Asking again for a period already held decides nothing (the answer is
/// the extension made); periods come in order.
pub fn decide(
    account: &Account,
    pricing: &Pricing,
    user: UserId,
    conversation: ConversationId,
    period: u32,
) -> Result<Vec<LedgerEvent>, Refusal> {
    let invalid = |message: String| Err(Refusal::new(RefusalCode::InvalidRequest, message));
    let Some(money) = account.conversations.get(&conversation) else {
        return invalid(format!(
            "conversation {conversation} holds nothing to extend"
        ));
    };
    let Some(held) = money.hold else {
        return invalid(format!(
            "conversation {conversation} was charged without a hold"
        ));
    };
    if period != 0 && period <= money.period {
        return Ok(Vec::new());
    }
    if money.is_charged() {
        return invalid(format!(
            "conversation {conversation} has ended and been charged"
        ));
    }
    if money.expired {
        // The session missed its extensions for a whole TTL; credits are no
        // longer reserved, so the call must end like one that ran out.
        return Err(Refusal::new(
            RefusalCode::InsufficientCredits,
            format!("the hold of conversation {conversation} expired"),
        ));
    }
    if period != money.period + 1 {
        return invalid(format!(
            "period {period} asked for, the next one is {}",
            money.period + 1
        ));
    }
    let rate = money.rate.unwrap_or(pricing.credits_per_minute);
    let credits = pricing.period_cost(rate);
    if account.balance < credits {
        return Err(Refusal::new(
            RefusalCode::InsufficientCredits,
            format!(
                "{} credits available, the next period needs {}",
                account.balance.get(),
                credits.get()
            ),
        ));
    }
    Ok(vec![LedgerEvent::CreditsHeld(CreditsHeld {
        conversation_id: conversation,
        credits,
        postings: Posting::transfer(
            AccountId::User(user),
            AccountId::System(SystemAccount::Holds),
            credits,
        )
        .to_vec(),
        period,
        covers_ms: Some(covers_ms(rate, held + credits)),
        credits_per_minute: Some(rate),
    })])
}

#[cfg(test)]
mod tests {
    use events::command::RefusalCode;
    use events::{ConversationId, UserId};

    use crate::given::{charge, extend, given, grant, hold, types};

    #[test]
    fn each_period_is_held_once_until_the_user_runs_out() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let mut ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        let command = extend(user, conversation, 1);
        let events = ledger.when(&command).expect("extended");
        assert_eq!(types(&events), ["credits.held"]);
        ledger.then(&command, events);
        assert_eq!(ledger.when(&command), Ok(Vec::new()), "asked twice");
        assert_eq!(ledger.held(user), 8_000);
        let money = ledger.state.user(user).conversations[&conversation];
        assert_eq!(money.covers_ms, 1_200_000);
        let refused = ledger
            .when(&extend(user, conversation, 2))
            .expect_err("2,000 left, a period costs 4,000");
        assert_eq!(refused.code, RefusalCode::InsufficientCredits);
        assert_eq!(ledger.available(user), 2_000);
    }

    #[test]
    fn out_of_order_unknown_and_charged_calls_are_refused() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let ledger = given(&[grant(user, 100_000), hold(user, conversation)]);
        let code = |ledger: &crate::given::Given, period| {
            ledger
                .when(&extend(user, conversation, period))
                .map_err(|r| r.code)
        };
        assert_eq!(code(&ledger, 2), Err(RefusalCode::InvalidRequest));
        let stranger = given(&[grant(user, 100_000)]);
        assert_eq!(code(&stranger, 1), Err(RefusalCode::InvalidRequest));
        let ended = given(&[
            grant(user, 100_000),
            hold(user, conversation),
            charge(user, conversation, 1_000),
        ]);
        assert_eq!(code(&ended, 1), Err(RefusalCode::InvalidRequest));
    }
}
