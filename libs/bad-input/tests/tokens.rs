//! Bad input against the gateway's token checks, in the spirit of the
//! parsers' proptests: arbitrary tokens never panic and are refused; a token
//! the gateway issues (or NextAuth seals) verifies; any one character of a
//! valid token changed is refused. No exception for base64's spare low bits
//! (the last character of a signature or tag) is needed: `jsonwebtoken` and
//! the NextAuth decoder both refuse non-zero spare bits, so no change is
//! equivalent.
//!
//! Bounded by proptest's `PROPTEST_CASES` (256 by default); a longer run:
//! `PROPTEST_CASES=20000 cargo test -p bad-input --test tokens`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bad_input::tokens::{self, NEXTAUTH_HEADER};
use events::UserId;
use gateway::auth::TokenError;
use gateway::{Role, issue_token};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::User, Role::Finance, Role::Admin])
}

fn user() -> impl Strategy<Value = UserId> {
    "[0-9a-f]{24}".prop_map(|hex| hex.parse().expect("24 hex"))
}

/// Text shaped like a token: base64url runs joined by dots, or anything.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,48}(\\.[A-Za-z0-9_-]{0,48}){2}",
        "[A-Za-z0-9_-]{0,48}(\\.[A-Za-z0-9_-]{0,48}){4}",
        ".{0,200}",
    ]
}

fn issued(user: UserId, role: Role) -> String {
    issue_token(
        &tokens::keys().secret,
        user,
        role,
        Duration::from_secs(3600),
    )
}

fn session(user: UserId, role: Role) -> String {
    let claims = format!(
        r#"{{"name":"Ada","sub":"{user}","role":"{}","iat":{},"exp":{}}}"#,
        role.as_str(),
        unix_now(),
        unix_now() + 3600
    );
    tokens::seal(NEXTAUTH_HEADER.as_bytes(), claims.as_bytes())
}

/// `token` with its `at`-th character (modulo the length) replaced.
fn changed(token: &str, at: usize, with: char) -> String {
    let at = at % token.chars().count();
    token
        .chars()
        .enumerate()
        .map(|(i, c)| if i == at { with } else { c })
        .collect()
}

/// A replacement character: base64url (the likely mistake), a dot, or any.
fn replacement() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
                .chars()
                .collect::<Vec<_>>()
        ),
        any::<char>(),
    ]
}

/// The corpus reaches past the signature: its genuine tokens are accepted.
#[test]
fn the_corpus_tokens_verify() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for file in ["jwt/issued_token", "nextauth/session_token"] {
        let token = std::fs::read_to_string(corpus.join(file)).expect("corpus token");
        assert!(tokens::keys().verify(&token).is_ok(), "{file} is refused");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_tokens_never_panic_and_are_refused(token in token()) {
        prop_assert!(tokens::keys().verify(&token).is_err());
        bad_input::jwt(token.as_bytes());
        bad_input::nextauth(token.as_bytes());
    }

    #[test]
    fn arbitrary_claims_never_panic(claims in ".{0,200}", header in prop::option::of(".{0,60}")) {
        let data = match header {
            Some(header) => format!("{header}\n{claims}"),
            None => claims,
        };
        bad_input::jwt(data.as_bytes());
        bad_input::nextauth(data.as_bytes());
    }

    #[test]
    fn an_issued_token_verifies(user in user(), role in role()) {
        let claims = tokens::keys().verify(&issued(user, role)).expect("verifies");
        prop_assert_eq!((claims.sub, claims.role), (user, role));
        bad_input::jwt(issued(user, role).as_bytes());
    }

    #[test]
    fn a_sealed_session_verifies(user in user(), role in role()) {
        let claims = tokens::keys().verify(&session(user, role)).expect("verifies");
        prop_assert_eq!((claims.sub, claims.role), (user, role));
        bad_input::nextauth(session(user, role).as_bytes());
    }

    #[test]
    fn any_changed_character_of_an_issued_token_is_refused(
        user in user(), role in role(), at in any::<usize>(), with in replacement(),
    ) {
        let token = issued(user, role);
        let changed = changed(&token, at, with);
        prop_assume!(changed != token);
        prop_assert!(tokens::keys().verify(&changed).is_err(), "accepted {changed}");
    }

    #[test]
    fn any_changed_character_of_a_session_is_refused(
        user in user(), role in role(), at in any::<usize>(), with in replacement(),
    ) {
        let token = session(user, role);
        let changed = changed(&token, at, with);
        prop_assume!(changed != token);
        let refused = tokens::keys().verify(&changed);
        prop_assert!(refused.is_err(), "accepted {changed}");
        prop_assert_ne!(refused, Err(TokenError::Expired));
    }
}
