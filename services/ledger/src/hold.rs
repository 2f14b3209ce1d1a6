//! `hold`: reserve the first period of a call before it starts, or refuse
//! the call.

use events::command::{Refusal, RefusalCode};
use events::ledger::{CreditsHeld, LedgerEvent};
use events::{AccountId, ConversationId, Posting, SystemAccount, UserId};

use crate::account::Account;
use crate::pricing::{Pricing, covers_ms};

/// Holds one period at `rate`, capped at what the user has, when they can
/// cover the minimum. A conversation the ledger already knows gets no
/// second hold.
pub fn decide(
    account: &Account,
    pricing: &Pricing,
    user: UserId,
    conversation: ConversationId,
    rate: u32,
) -> Result<Vec<LedgerEvent>, Refusal> {
    if account.conversations.contains_key(&conversation) {
        return Ok(Vec::new());
    }
    let minimum = pricing.minimum(rate);
    if account.balance < minimum || account.balance.is_negative() {
        return Err(Refusal::new(
            RefusalCode::InsufficientCredits,
            format!(
                "{} credits available, a call needs at least {}",
                account.balance.get(),
                minimum.get()
            ),
        ));
    }
    let credits = pricing.period_cost(rate).min(account.balance);
    Ok(vec![LedgerEvent::CreditsHeld(CreditsHeld {
        conversation_id: conversation,
        credits,
        postings: Posting::transfer(
            AccountId::User(user),
            AccountId::System(SystemAccount::Holds),
            credits,
        )
        .to_vec(),
        period: 0,
        covers_ms: Some(covers_ms(rate, credits)),
        credits_per_minute: Some(rate),
    })])
}

#[cfg(test)]
mod tests {
    use events::command::RefusalCode;
    use events::{ConversationId, UserId};

    use crate::given::{given, grant, hold, types};

    #[test]
    fn a_user_without_the_minimum_is_refused_and_nothing_is_decided() {
        let user = UserId::new();
        for ledger in [given(&[]), given(&[grant(user, 399)])] {
            let refused = ledger
                .when(&hold(user, ConversationId::new()))
                .expect_err("refused");
            assert_eq!(refused.code, RefusalCode::InsufficientCredits);
        }
    }

    #[test]
    fn the_hold_is_one_period_capped_at_the_balance_and_says_what_it_covers() {
        let (rich, poor) = (UserId::new(), UserId::new());
        let mut ledger = given(&[grant(rich, 10_000), grant(poor, 1_000)]);
        for (user, held, covers) in [(rich, 4_000, 600_000), (poor, 1_000, 150_000)] {
            let command = hold(user, ConversationId::new());
            let events = ledger.when(&command).expect("held");
            assert_eq!(types(&events), ["credits.held"]);
            ledger.then(&command, events);
            assert_eq!(ledger.held(user), held);
            let money = ledger.state.user(user).conversations.into_values().next();
            assert_eq!(money.map(|m| m.covers_ms), Some(covers));
        }
        assert_eq!(ledger.available(rich), 6_000);
        assert_eq!(ledger.available(poor), 0);
    }

    #[test]
    fn the_same_conversation_asked_twice_gets_no_second_hold() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let ledger = given(&[grant(user, 10_000), hold(user, conversation)]);
        assert_eq!(ledger.when(&hold(user, conversation)), Ok(Vec::new()));
    }
}
