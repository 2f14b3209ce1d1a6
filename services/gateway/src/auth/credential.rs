//! Where a request carries its credential: `Authorization: Bearer …`, the
//! `xi-api-key` header (ElevenLabs' server SDKs), the `bearer.<token>`
//! WebSocket subprotocol (the JS SDK), or a `conversation_signature`.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};

use crate::auth::{AuthError, TokenError};

const XI_API_KEY: &str = "xi-api-key";
const BEARER_PROTOCOL: &str = "bearer.";

/// A credential as found, not yet checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential<'a> {
    Token(&'a str),
    Signature(&'a str),
}

/// The first credential present, headers before the signature.
pub fn find<'a>(
    headers: &'a HeaderMap,
    signature: Option<&'a str>,
) -> Result<Credential<'a>, AuthError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| TokenError::Malformed)?;
        return match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Credential::Token(token.trim()))
            }
            _ => Err(AuthError::Scheme),
        };
    }
    if let Some(value) = headers.get(XI_API_KEY) {
        let token = value.to_str().map_err(|_| TokenError::Malformed)?;
        return Ok(Credential::Token(token.trim()));
    }
    let subprotocol = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|protocol| protocol.trim().strip_prefix(BEARER_PROTOCOL));
    if let Some(token) = subprotocol {
        return Ok(Credential::Token(token));
    }
    match signature {
        Some(signature) => Ok(Credential::Signature(signature)),
        None => Err(AuthError::Missing),
    }
}

/// A token, from the headers only (signatures open conversations, nothing else).
pub fn find_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    match find(headers, None)? {
        Credential::Token(token) => Ok(token),
        Credential::Signature(_) => Err(AuthError::Missing),
    }
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
        find_token(&headers(pairs)).map(str::to_owned)
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
        assert_eq!(find(&with_key, Some("sig")), Ok(Credential::Token("abc")));
    }
}
