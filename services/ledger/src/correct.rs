//! `correct`: a manual correction by finance, either sign, with a reason
//! and an actor, once per `correction_id`.

use events::command::{Refusal, RefusalCode};
use events::ledger::{CreditsCorrected, LedgerEvent};
use events::{AccountId, Credits, EventId, Posting, SystemAccount, UserId};

use crate::account::Account;
use crate::decide::bookable;
use crate::grant::MAX_REASON_CHARS;

/// Longest `actor` kept on a correction.
pub const MAX_ACTOR_CHARS: usize = 100;

/// The correction to book: `credits` to the user (negative: from them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Correction {
    pub id: EventId,
    pub credits: Credits,
    pub reason: String,
    pub actor: String,
}

pub fn decide(
    account: &Account,
    user: UserId,
    correction: &Correction,
) -> Result<Vec<LedgerEvent>, Refusal> {
    let invalid = |message: String| Err(Refusal::new(RefusalCode::InvalidRequest, message));
    let size = correction.credits.get().checked_abs().unwrap_or(i64::MAX);
    bookable(Credits::new(size), "a correction's size")?;
    if correction.credits == Credits::ZERO {
        return invalid("a correction must move at least 1 credit".to_owned());
    }
    for (what, text, max) in [
        ("reason", &correction.reason, MAX_REASON_CHARS),
        ("actor", &correction.actor, MAX_ACTOR_CHARS),
    ] {
        if text.trim().is_empty() {
            return invalid(format!("a correction needs its {what}"));
        }
        if text.chars().count() > max {
            return invalid(format!("{what} is longer than {max} characters"));
        }
    }
    if account.corrections.contains(&correction.id) {
        return Ok(Vec::new());
    }
    Ok(vec![LedgerEvent::CreditsCorrected(CreditsCorrected {
        credits: correction.credits,
        reason: correction.reason.clone(),
        actor: correction.actor.clone(),
        postings: Posting::transfer(
            AccountId::System(SystemAccount::Adjustments),
            AccountId::User(user),
            correction.credits,
        )
        .to_vec(),
    })])
}

#[cfg(test)]
mod tests {
    use events::command::RefusalCode;
    use events::{Credits, EventId, UserId};

    use super::Correction;
    use crate::decide::Command;
    use crate::given::{given, grant, types};

    fn correct(user: UserId, id: EventId, credits: i64, reason: &str, actor: &str) -> Command {
        Command::Correct {
            user,
            correction: Correction {
                id,
                credits: Credits::new(credits),
                reason: reason.to_owned(),
                actor: actor.to_owned(),
            },
        }
    }

    #[test]
    fn a_correction_moves_either_way_once_per_id() {
        let user = UserId::new();
        let mut ledger = given(&[grant(user, 1_000)]);
        let take = correct(user, EventId::new(), -300, "test call booked twice", "ana");
        let events = ledger.when(&take).expect("corrected");
        assert_eq!(types(&events), ["credits.corrected"]);
        ledger.then(&take, events);
        assert_eq!(ledger.when(&take), Ok(Vec::new()), "a retry books nothing");
        let give = correct(user, EventId::new(), 50, "goodwill", "ana");
        ledger.book(&give);
        assert_eq!(ledger.available(user), 1_000 - 300 + 50);
    }

    #[test]
    fn a_correction_without_reason_or_actor_or_size_is_refused() {
        let user = UserId::new();
        let ledger = given(&[grant(user, 1_000)]);
        for command in [
            correct(user, EventId::new(), 5, " ", "ana"),
            correct(user, EventId::new(), 5, "why", ""),
            correct(user, EventId::new(), 0, "why", "ana"),
            correct(user, EventId::new(), i64::MIN, "why", "ana"),
        ] {
            assert_eq!(
                ledger.when(&command).map_err(|r| r.code),
                Err(RefusalCode::InvalidRequest),
                "{command:?}"
            );
        }
    }
}
