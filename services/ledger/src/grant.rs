//! `grant`: give a user credits, once per `grant_id`.

use events::command::{Refusal, RefusalCode};
use events::ledger::{CreditsGranted, LedgerEvent};
use events::{AccountId, Credits, EventId, Posting, SystemAccount, UserId};

use crate::account::Account;
use crate::decide::bookable;

/// Longest `reason` kept on a grant.
pub const MAX_REASON_CHARS: usize = 200;

pub fn decide(
    account: &Account,
    user: UserId,
    grant_id: EventId,
    credits: Credits,
    reason: Option<String>,
) -> Result<Vec<LedgerEvent>, Refusal> {
    let credits = bookable(credits, "credits")?;
    if credits == Credits::ZERO {
        return Err(Refusal::new(
            RefusalCode::InvalidRequest,
            "a grant must give at least 1 credit",
        ));
    }
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(Refusal::new(
            RefusalCode::InvalidRequest,
            format!("reason is longer than {MAX_REASON_CHARS} characters"),
        ));
    }
    if account.grants.contains(&grant_id) {
        return Ok(Vec::new());
    }
    Ok(vec![LedgerEvent::CreditsGranted(CreditsGranted {
        credits,
        reason,
        postings: Posting::transfer(
            AccountId::System(SystemAccount::Grants),
            AccountId::User(user),
            credits,
        )
        .to_vec(),
    })])
}

#[cfg(test)]
mod tests {
    use events::command::RefusalCode;
    use events::{Credits, EventId, UserId};

    use crate::decide::Command;
    use crate::given::{given, grant, types};

    #[test]
    fn a_first_grant_opens_the_account() {
        let user = UserId::new();
        let mut ledger = given(&[]);
        let events = ledger.when(&grant(user, 500)).expect("granted");
        assert_eq!(types(&events), ["account.opened", "credits.granted"]);
        ledger.then(&grant(user, 500), events);
        assert_eq!(ledger.available(user), 500);
        let again = ledger.when(&grant(user, 1)).expect("granted");
        assert_eq!(types(&again), ["credits.granted"]);
    }

    #[test]
    fn a_grant_id_is_booked_once() {
        let user = UserId::new();
        let command = Command::Grant {
            user,
            grant_id: EventId::new(),
            credits: Credits::new(100),
            reason: Some("welcome".to_owned()),
        };
        let mut ledger = given(std::slice::from_ref(&command));
        assert_eq!(ledger.when(&command), Ok(Vec::new()));
        assert_eq!(ledger.available(user), 100);
        let other = grant(user, 100);
        let events = ledger.when(&other).expect("another grant id");
        ledger.then(&other, events);
        assert_eq!(ledger.available(user), 200);
    }

    #[test]
    fn nothing_negative_zero_or_absurd_is_granted() {
        let ledger = given(&[]);
        for credits in [0, -5, i64::MAX] {
            let refused = ledger
                .when(&grant(UserId::new(), credits))
                .expect_err("refused");
            assert_eq!(refused.code, RefusalCode::InvalidRequest, "{credits}");
        }
    }
}
