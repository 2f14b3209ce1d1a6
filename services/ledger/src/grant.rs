//! `grant`: give a user credits, once per `grant_id`, optionally until an
//! expiry; and the expiry of what is left of such a grant.
//!
//! Which credits a user spends is a convention, since a balance is one
//! number: what a call is finally charged (and a correction takes) comes
//! out of the grants expiring soonest first (`Account::spend`); holds
//! spend nothing until captured. When a grant expires, what is left of it
//! goes, at most what the user has available, never below zero.

use chrono::{DateTime, Utc};
use events::command::{Refusal, RefusalCode};
use events::ledger::{CreditsExpired, CreditsGranted, LedgerEvent};
use events::{AccountId, Credits, EventId, Posting, SystemAccount, UserId};

use crate::account::{Account, State};
use crate::decide::bookable;

/// Longest `reason` kept on a grant.
pub const MAX_REASON_CHARS: usize = 200;

pub fn decide(
    account: &Account,
    user: UserId,
    grant_id: EventId,
    credits: Credits,
    reason: Option<String>,
    expires_at: Option<DateTime<Utc>>,
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
        expires_at,
    })])
}

/// The expiry of grant `grant_id` at `now`: nothing before its time or
/// once expired; else what is left of it (possibly zero, which still
/// records that it ended).
pub fn expire(
    account: &Account,
    user: UserId,
    grant_id: EventId,
    now: DateTime<Utc>,
) -> Vec<LedgerEvent> {
    let Some(grant) = account.expiring.get(&grant_id) else {
        return Vec::new();
    };
    if grant.expires_at > now {
        return Vec::new();
    }
    let left = grant.credits.min(account.balance.max(Credits::ZERO));
    vec![LedgerEvent::CreditsExpired(CreditsExpired {
        grant_id,
        credits: left,
        postings: Posting::transfer(
            AccountId::User(user),
            AccountId::System(SystemAccount::Grants),
            left,
        )
        .to_vec(),
    })]
}

/// Every grant whose expiry has come at `now`.
pub fn due(state: &State, now: DateTime<Utc>) -> Vec<(UserId, EventId)> {
    state
        .users()
        .flat_map(|(user, account)| {
            account
                .expiring
                .iter()
                .filter(move |(_, g)| g.expires_at <= now)
                .map(move |(id, _)| (user, *id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use events::command::RefusalCode;
    use events::{Credits, EventId, UserId};

    use chrono::{DateTime, Duration, Utc};
    use events::ConversationId;

    use crate::decide::Command;
    use crate::given::{charge, given, grant, hold, types};
    use crate::grant;

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
            expires_at: None,
        };
        let mut ledger = given(std::slice::from_ref(&command));
        assert_eq!(ledger.when(&command), Ok(Vec::new()));
        assert_eq!(ledger.available(user), 100);
        let other = grant(user, 100);
        let events = ledger.when(&other).expect("another grant id");
        ledger.then(&other, events);
        assert_eq!(ledger.available(user), 200);
    }

    fn expiring(user: UserId, credits: i64, expires_at: DateTime<Utc>) -> Command {
        Command::Grant {
            user,
            grant_id: EventId::new(),
            credits: Credits::new(credits),
            reason: None,
            expires_at: Some(expires_at),
        }
    }

    fn expire(user: UserId, grant: &Command, now: DateTime<Utc>) -> Command {
        let Command::Grant { grant_id, .. } = grant else {
            panic!("not a grant: {grant:?}");
        };
        Command::ExpireGrant {
            user,
            grant_id: *grant_id,
            now,
        }
    }

    #[test]
    fn an_expiring_grant_loses_what_is_left_of_it_once_and_soonest_is_spent_first() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let now = Utc::now();
        let (soon, late) = (now + Duration::days(1), now + Duration::days(30));
        let first = expiring(user, 1_000, soon);
        let second = expiring(user, 1_000, late);
        let mut ledger = given(&[grant(user, 500), first.clone(), second.clone()]);
        // A call costing 1,200: 1,000 from the grant expiring soonest, 200 from the next.
        ledger.book(&hold(user, conversation));
        ledger.book(&charge(user, conversation, 180_000));
        assert_eq!(ledger.available(user), 2_500 - 1_200);
        assert!(grant::due(&ledger.state, now).is_empty(), "nothing due yet");
        assert_eq!(grant::due(&ledger.state, soon).len(), 1);

        let command = expire(user, &first, soon);
        let events = ledger.when(&command).expect("expired");
        assert_eq!(types(&events), ["credits.expired"]);
        assert_eq!(events[0].postings()[0].credits, Credits::ZERO, "all spent");
        ledger.then(&command, events);
        assert_eq!(ledger.when(&command), Ok(Vec::new()), "expired once");

        assert_eq!(
            ledger.when(&expire(user, &second, soon)),
            Ok(Vec::new()),
            "not yet"
        );
        ledger.book(&expire(user, &second, late));
        assert_eq!(ledger.available(user), 500, "what never expires stays");
    }

    #[test]
    fn an_expiry_never_takes_more_than_is_available() {
        let (user, conversation) = (UserId::new(), ConversationId::new());
        let now = Utc::now();
        let gift = expiring(user, 1_000, now);
        let mut ledger = given(&[gift.clone(), hold(user, conversation)]);
        assert_eq!(ledger.available(user), 0, "all of it held");
        ledger.book(&expire(user, &gift, now));
        assert_eq!((ledger.available(user), ledger.held(user)), (0, 1_000));
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
