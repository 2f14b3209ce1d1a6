//! Where a request carries its credential, in this order: `Authorization:
//! Bearer …`, the `xi-api-key` header (ElevenLabs' SDKs), the
//! `bearer.<token>` WebSocket subprotocol (the JS SDK), a
//! `conversation_signature`, and last NextAuth's session cookie
//! (`__Secure-next-auth.session-token` or `next-auth.session-token`, whole
//! or in the `.0`, `.1`, … chunks NextAuth splits a large one into).
//!
//! The cookie comes last so a credential the client chose on purpose wins
//! over the one its browser sends anyway.

use std::borrow::Cow;

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, SEC_WEBSOCKET_PROTOCOL};

use crate::auth::{AuthError, TokenError};

const XI_API_KEY: &str = "xi-api-key";
const BEARER_PROTOCOL: &str = "bearer.";
/// NextAuth's names: `__Secure-` over HTTPS, the plain one otherwise.
pub const SESSION_COOKIES: [&str; 2] = [
    "__Secure-next-auth.session-token",
    "next-auth.session-token",
];
/// More chunks than any session needs (NextAuth chunks at ~4 KB).
const MAX_COOKIE_CHUNKS: usize = 16;

/// A credential as found, not yet checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential<'a> {
    Token(Cow<'a, str>),
    Signature(&'a str),
}

/// The first credential present, in the order the module doc gives.
pub fn find<'a>(
    headers: &'a HeaderMap,
    signature: Option<&'a str>,
) -> Result<Credential<'a>, AuthError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| TokenError::Malformed)?;
        return match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Credential::Token(token.trim().into()))
            }
            _ => Err(AuthError::Scheme),
        };
    }
    if let Some(value) = headers.get(XI_API_KEY) {
        let token = value.to_str().map_err(|_| TokenError::Malformed)?;
        return Ok(Credential::Token(token.trim().into()));
    }
    let subprotocol = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|protocol| protocol.trim().strip_prefix(BEARER_PROTOCOL));
    if let Some(token) = subprotocol {
        return Ok(Credential::Token(token.into()));
    }
    if let Some(signature) = signature {
        return Ok(Credential::Signature(signature));
    }
    match session_cookie(headers) {
        Some(token) => Ok(Credential::Token(token.into())),
        None => Err(AuthError::Missing),
    }
}

/// A token, from the headers only (signatures open conversations, nothing else).
pub fn find_token(headers: &HeaderMap) -> Result<Cow<'_, str>, AuthError> {
    match find(headers, None)? {
        Credential::Token(token) => Ok(token),
        Credential::Signature(_) => Err(AuthError::Missing),
    }
}

/// NextAuth's session cookie, its chunks joined in index order as
/// NextAuth's `SessionStore` joins them; the whole cookie wins over chunks.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let pairs: Vec<(&str, &str)> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    SESSION_COOKIES.iter().find_map(|name| {
        if let Some((_, whole)) = pairs.iter().find(|(n, _)| n == name) {
            return Some((*whole).to_owned());
        }
        let mut chunks: Vec<(usize, &str)> = pairs
            .iter()
            .filter_map(|(n, value)| {
                let index = n.strip_prefix(name)?.strip_prefix('.')?.parse().ok()?;
                Some((index, *value))
            })
            .filter(|(index, _)| *index < MAX_COOKIE_CHUNKS)
            .collect();
        chunks.sort_unstable_by_key(|(index, _)| *index);
        let contiguous = chunks.iter().enumerate().all(|(i, (index, _))| i == *index);
        (!chunks.is_empty() && contiguous).then(|| chunks.iter().map(|(_, v)| *v).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn token_in(pairs: &[(&'static str, &'static str)]) -> Result<String, AuthError> {
        find_token(&headers(pairs)).map(Cow::into_owned)
    }

    #[test]
    fn each_place_yields_the_token() {
        let abc = Ok("abc".to_owned());
        assert_eq!(token_in(&[("authorization", "Bearer abc")]), abc);
        assert_eq!(token_in(&[("authorization", "bearer abc")]), abc);
        assert_eq!(token_in(&[("xi-api-key", "abc")]), abc);
        assert_eq!(
            token_in(&[("sec-websocket-protocol", "convai, bearer.abc")]),
            abc
        );
        assert_eq!(
            token_in(&[("authorization", "Basic abc")]),
            Err(AuthError::Scheme)
        );
        assert_eq!(
            token_in(&[("sec-websocket-protocol", "convai")]),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn a_signature_counts_only_without_a_header_credential() {
        let none = HeaderMap::new();
        assert_eq!(find(&none, Some("sig")), Ok(Credential::Signature("sig")));
        assert_eq!(find_token(&none), Err(AuthError::Missing));
        let with_key = headers(&[("xi-api-key", "abc")]);
        assert_eq!(
            find(&with_key, Some("sig")),
            Ok(Credential::Token("abc".into()))
        );
        let with_cookie = headers(&[("cookie", "next-auth.session-token=abc")]);
        assert_eq!(
            find(&with_cookie, Some("sig")),
            Ok(Credential::Signature("sig"))
        );
    }

    #[test]
    fn nextauths_session_cookie_whole_or_in_chunks() {
        let abc = Ok("abc".to_owned());
        assert_eq!(
            token_in(&[("cookie", "theme=dark; next-auth.session-token=abc")]),
            abc
        );
        assert_eq!(
            token_in(&[(
                "cookie",
                "__Secure-next-auth.session-token=abc; next-auth.session-token=x"
            )]),
            abc
        );
        assert_eq!(
            token_in(&[
                ("cookie", "next-auth.session-token.1=b; a=1"),
                (
                    "cookie",
                    "next-auth.session-token.2=c; next-auth.session-token.0=a"
                ),
            ]),
            abc
        );
        assert_eq!(
            token_in(&[(
                "cookie",
                "next-auth.session-token.0=a; next-auth.session-token.2=c"
            )]),
            Err(AuthError::Missing)
        );
        assert_eq!(
            token_in(&[("cookie", "next-auth.csrf-token=abc")]),
            Err(AuthError::Missing)
        );
        assert_eq!(
            token_in(&[
                ("cookie", "next-auth.session-token=abc"),
                ("authorization", "Bearer xyz")
            ]),
            Ok("xyz".to_owned())
        );
    }
}
