//! An export's format: `format=csv|ndjson`, else the `Accept` header
//! (`text/csv`, `application/x-ndjson` or `application/ndjson`), else CSV.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RFC 4180, one header row, then one row per item.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl Format {
    pub fn choose(asked: Option<Format>, headers: &HeaderMap) -> Self {
        if let Some(format) = asked {
            return format;
        }
        let accept = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|media| {
                media
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        for media in accept {
            match media.as_str() {
                "text/csv" => return Self::Csv,
                "application/x-ndjson" | "application/ndjson" => return Self::Ndjson,
                _ => {}
            }
        }
        Self::Csv
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

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_parameter_wins_then_the_first_known_accepted_type_then_csv() {
        let mut headers = HeaderMap::new();
        assert_eq!(Format::choose(None, &headers), Format::Csv);
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, application/x-ndjson;q=0.9, text/csv"),
        );
        assert_eq!(Format::choose(None, &headers), Format::Ndjson);
        assert_eq!(Format::choose(Some(Format::Csv), &headers), Format::Csv);
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        assert_eq!(Format::choose(None, &headers), Format::Csv);
    }
}
