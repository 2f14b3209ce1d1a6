//! An export's body, streamed from a MongoDB cursor: documents are read a
//! batch at a time and written as rows into a small buffer that is sent
//! whenever it fills, so the gateway never holds the whole export. The
//! client's pace drives the reads (hyper pulls the next chunk only once it
//! has sent the last). A read that fails midway ends the body early (the
//! client sees an incomplete transfer), since the status is already sent.

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use bson::Document;
use bytes::Bytes;
use futures::TryStreamExt;
use mongodb::Cursor;
use mongodb::action::Find;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, RefOr, ResponseBuilder};

use super::format::Format;
use crate::error::{ApiError, problem_responses};
use crate::routes::conversations::fetch::mongo_error;

/// Bytes buffered before a chunk is sent.
pub const CHUNK_BYTES: usize = 32 * 1024;
/// Documents the driver fetches per round trip.
const BATCH_DOCUMENTS: u32 = 256;

/// A flat row of an export; `COLUMNS` are its serialised field names, in order.
pub trait Row: Serialize {
    const COLUMNS: &'static [&'static str];
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the export's documents: {0}")]
    Read(#[from] mongodb::error::Error),
    #[error("writing a CSV row: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing a JSON line: {0}")]
    Json(#[from] serde_json::Error),
    #[error("flushing the CSV buffer: {0}")]
    Flush(#[from] std::io::Error),
}

/// Rows in one format, buffered.
pub enum Encoder {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Ndjson(Vec<u8>),
}

impl Encoder {
    /// An encoder that has written `R`'s header (CSV only).
    pub fn new<R: Row>(format: Format) -> Result<Self, ExportError> {
        Ok(match format {
            Format::Csv => {
                let mut csv = csv_writer();
                csv.write_record(R::COLUMNS)?;
                Self::Csv(Box::new(csv))
            }
            Format::Ndjson => Self::Ndjson(Vec::with_capacity(CHUNK_BYTES * 2)),
        })
    }

    pub fn row<R: Row>(&mut self, row: &R) -> Result<(), ExportError> {
        match self {
            Self::Csv(csv) => csv.serialize(row)?,
            Self::Ndjson(buffer) => {
                serde_json::to_writer(&mut *buffer, row)?;
                buffer.push(b'\n');
            }
        }
        Ok(())
    }

    /// Bytes waiting (the CSV writer's own small buffer aside).
    pub fn buffered(&self) -> usize {
        match self {
            Self::Csv(csv) => csv.get_ref().len(),
            Self::Ndjson(buffer) => buffer.len(),
        }
    }

    /// Everything written so far, leaving the encoder empty.
    pub fn take(&mut self) -> Result<Bytes, ExportError> {
        let full = match self {
            Self::Csv(csv) => std::mem::replace(csv.as_mut(), csv_writer())
                .into_inner()
                .map_err(|e| ExportError::Flush(e.into_error()))?,
            Self::Ndjson(buffer) => std::mem::replace(buffer, Vec::with_capacity(CHUNK_BYTES * 2)),
        };
        Ok(Bytes::from(full))
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(CHUNK_BYTES * 2))
}

/// What both exports answer but their own 404 (and finance's 403).
pub struct ExportResponses;

impl utoipa::IntoResponses for ExportResponses {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let text = || Content::new(Some(ObjectBuilder::new().schema_type(Type::String)));
        let rows = ResponseBuilder::new()
            .description("The rows, streamed")
            .content("text/csv", text())
            .content("application/x-ndjson", text())
            .build();
        let mut responses = problem_responses(&[
            (400, "A parameter is malformed or unknown"),
            (401, "No credential, or a bad one"),
            (
                406,
                "Accept allows neither CSV nor NDJSON, and no format= chooses",
            ),
        ]);
        responses.insert("200".to_owned(), RefOr::T(rows));
        responses
    }
}

/// Opens the cursor an export reads: a batch of documents per round trip,
/// sorting on disk when it must.
pub async fn open(find: Find<'_, Document>) -> Result<Cursor<Document>, ApiError> {
    find.batch_size(BATCH_DOCUMENTS)
        .allow_disk_use(true)
        .await
        .map_err(mongo_error)
}

/// The export of `cursor`'s documents as `to_row` makes them, named
/// `<name>.<extension>` for a browser's download.
pub fn response<R, F>(cursor: Cursor<Document>, format: Format, name: &str, to_row: F) -> Response
where
    R: Row,
    F: FnMut(Document) -> R + Send + 'static,
{
    let headers = [
        (CONTENT_TYPE, format.content_type().to_owned()),
        (
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{}\"", format.extension()),
        ),
        (CACHE_CONTROL, "no-store".to_owned()),
    ];
    let encoder = match Encoder::new::<R>(format) {
        Ok(encoder) => encoder,
        Err(error) => return ApiError::internal(error).into_response(),
    };
    let chunks = futures::stream::try_unfold(Some((cursor, encoder, to_row)), |state| async move {
        let Some((mut cursor, mut encoder, mut to_row)) = state else {
            return Ok(None);
        };
        let mut more = true;
        while encoder.buffered() < CHUNK_BYTES {
            match cursor.try_next().await? {
                Some(document) => encoder.row(&to_row(document))?,
                None => {
                    more = false;
                    break;
                }
            }
        }
        let chunk = encoder.take()?;
        let next = more.then_some((cursor, encoder, to_row));
        if chunk.is_empty() && next.is_none() {
            return Ok(None);
        }
        Ok::<_, ExportError>(Some((chunk, next)))
    })
    .inspect_err(|error| tracing::warn!(%error, "export cut short"));
    (headers, Body::from_stream(chunks)).into_response()
}

/// Checks that `R::COLUMNS` names `row`'s serialised fields in order.
#[cfg(test)]
pub fn assert_columns<R: Row>(row: &R) {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.serialize(row).expect("row");
    let text = String::from_utf8(csv.into_inner().expect("flush")).expect("utf8");
    assert_eq!(text.lines().next(), Some(R::COLUMNS.join(",").as_str()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        some_id: String,
        note: Option<String>,
        credits: i64,
    }

    impl Row for Sample {
        const COLUMNS: &'static [&'static str] = &["someId", "note", "credits"];
    }

    fn sample(note: Option<&str>) -> Sample {
        Sample {
            some_id: "a".into(),
            note: note.map(str::to_owned),
            credits: -3,
        }
    }

    #[test]
    fn csv_has_one_header_and_quotes_what_needs_it() {
        let mut encoder = Encoder::new::<Sample>(Format::Csv).expect("encoder");
        encoder
            .row(&sample(Some("line one\nsaid \"hi\", then")))
            .expect("row");
        encoder.row(&sample(None)).expect("row");
        let text = String::from_utf8(encoder.take().expect("take").to_vec()).expect("utf8");
        assert_eq!(
            text,
            "someId,note,credits\na,\"line one\nsaid \"\"hi\"\", then\",-3\na,,-3\n"
        );
        assert!(encoder.take().expect("take").is_empty());
    }

    #[test]
    fn ndjson_is_one_object_per_line_keyed_as_the_columns() {
        let mut encoder = Encoder::new::<Sample>(Format::Ndjson).expect("encoder");
        encoder.row(&sample(Some("two\nlines"))).expect("row");
        let text = String::from_utf8(encoder.take().expect("take").to_vec()).expect("utf8");
        assert_eq!(text.lines().count(), 1);
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["note"], "two\nlines");
        assert_columns(&sample(None));
    }
}
