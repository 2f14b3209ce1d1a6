//! An export's format: `format=csv|ndjson`, else the `Accept` header
//! (`text/csv`, `application/x-ndjson` or `application/ndjson`, the first
//! listed winning; then `text/*`, `application/*` or `*/*`; `q=0` refuses
//! a type), else CSV. An `Accept` that allows neither is 406.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use serde::Deserialize;

use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RFC 4180, one header row, then one row per item.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl Format {
    pub fn choose(asked: Option<Format>, headers: &HeaderMap) -> Result<Self, ApiError> {
        if let Some(format) = asked {
            return Ok(format);
        }
        let listed: Vec<&str> = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter(|media| !media.trim().is_empty())
            .collect();
        if listed.is_empty() {
            return Ok(Self::Csv);
        }
        let accepted: Vec<String> = listed
            .into_iter()
            .filter(|media| !refused(media))
            .map(|media| {
                media
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let exact = accepted.iter().find_map(|media| match media.as_str() {
            "text/csv" => Some(Self::Csv),
            "application/x-ndjson" | "application/ndjson" => Some(Self::Ndjson),
            _ => None,
        });
        let wildcard = || {
            accepted.iter().find_map(|media| match media.as_str() {
                "*/*" | "text/*" => Some(Self::Csv),
                "application/*" => Some(Self::Ndjson),
                _ => None,
            })
        };
        exact.or_else(wildcard).ok_or(ApiError::NotAcceptable(
            "text/csv or application/x-ndjson (or choose with format=csv|ndjson)",
        ))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }
}

/// A media range with `q=0`: the client refuses it.
fn refused(media: &str) -> bool {
    media.split(';').skip(1).any(|parameter| {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        name.trim().eq_ignore_ascii_case("q") && value.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_parameter_wins_then_the_first_known_accepted_type_then_csv() {
        let mut headers = HeaderMap::new();
        let chosen = |headers: &HeaderMap| Format::choose(None, headers).ok();
        assert_eq!(chosen(&headers), Some(Format::Csv));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, application/x-ndjson;q=0.9, text/csv"),
        );
        assert_eq!(chosen(&headers), Some(Format::Ndjson));
        assert_eq!(
            Format::choose(Some(Format::Csv), &headers).ok(),
            Some(Format::Csv)
        );
        for (accept, format) in [
            ("*/*", Format::Csv),
            ("*/*, application/ndjson", Format::Ndjson),
            ("application/*", Format::Ndjson),
            ("text/*;q=0.5", Format::Csv),
            ("", Format::Csv),
        ] {
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
            assert_eq!(chosen(&headers), Some(format), "{accept}");
        }
    }

    #[test]
    fn an_accept_that_allows_neither_format_is_not_acceptable() {
        let mut headers = HeaderMap::new();
        for accept in ["application/json", "text/csv;q=0, image/*", "text/html"] {
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
            assert!(
                matches!(
                    Format::choose(None, &headers),
                    Err(ApiError::NotAcceptable(_))
                ),
                "{accept}"
            );
            assert_eq!(
                Format::choose(Some(Format::Ndjson), &headers).ok(),
                Some(Format::Ndjson)
            );
        }
    }
}
