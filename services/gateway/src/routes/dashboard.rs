//! `GET /dashboard/…`: the dashboard's static files (`dashboard/static/`),
//! embedded in the binary so a gateway serves them with nothing beside it.
//! The pages only call the gateway's public routes with the caller's own
//! credential; nothing here reads a model or checks a token.
//!
//! Headers: a strict Content-Security-Policy (same-origin scripts, styles,
//! fetches and sockets only), `nosniff`, no referrer, and caching by kind:
//! vendored files carry their npm version in the path, so they are
//! immutable; the dashboard's own files are revalidated by ETag.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Same-origin everything; AudioWorklets load from `/dashboard/vendor`
/// (not from blob: URLs) and the conversation socket is same-origin, so no
/// exception is needed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; media-src 'self' blob:; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// One embedded file, by its path under `dashboard/static/`.
struct Asset {
    path: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal) => {
        Asset {
            path: $path,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/dashboard/static/",
                $path
            )),
        }
    };
}

/// Every file the dashboard serves; a test checks this matches the folder.
const ASSETS: &[Asset] = &[
    asset!("index.html"),
    asset!("style.css"),
    asset!("app.js"),
    asset!("api.js"),
    asset!("chart.js"),
    asset!("format.js"),
    asset!("sse.js"),
    asset!("toast.js"),
    asset!("view.js"),
    asset!("pages/admin.js"),
    asset!("pages/conversation.js"),
    asset!("pages/conversations.js"),
    asset!("pages/costs.js"),
    asset!("pages/finance.js"),
    asset!("pages/live.js"),
    asset!("pages/signin.js"),
    asset!("pages/talk.js"),
    asset!("vendor/uplot@1.6.32/uPlot.esm.js"),
    asset!("vendor/uplot@1.6.32/uPlot.min.css"),
    asset!("vendor/@elevenlabs/client@1.25.0/lib.iife.js"),
    asset!("vendor/@elevenlabs/client@1.25.0/rawAudioProcessor.js"),
    asset!("vendor/@elevenlabs/client@1.25.0/audioConcatProcessor.js"),
];

/// The files route, documented by hand: axum's catch-all is `{*path}`,
/// which OpenAPI cannot name, so the document says `{path}`.
#[derive(OpenApi)]
#[openapi(paths(dashboard_file))]
struct FilesDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(FilesDoc::openapi())
        .routes(routes!(dashboard_root))
        .routes(routes!(dashboard_index))
        .route("/dashboard/{*path}", get(dashboard_file))
}

/// The dashboard, at its canonical address with the trailing slash (so the
/// pages' relative module paths resolve under `/dashboard/`).
#[utoipa::path(get, path = "/dashboard", tag = "dashboard", security(()),
    responses((status = 308, description = "To `/dashboard/`")))]
async fn dashboard_root() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(LOCATION, HeaderValue::from_static("/dashboard/"))],
    )
        .into_response()
}

/// The dashboard's single page (it routes by the URL's `#` part).
#[utoipa::path(get, path = "/dashboard/", tag = "dashboard", security(()),
    responses((status = 200, description = "The page", content_type = "text/html")))]
async fn dashboard_index(headers: HeaderMap) -> Response {
    serve("index.html", &headers).unwrap_or_else(IntoResponse::into_response)
}

/// One of the dashboard's files (scripts, styles, vendored libraries).
#[utoipa::path(get, path = "/dashboard/{path}", tag = "dashboard", security(()),
    params(("path" = String, Path, description = "A file under the dashboard (may hold `/`)")),
    responses(
        (status = 200, description = "The file"),
        (status = 304, description = "Unchanged since the ETag sent"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
async fn dashboard_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers).unwrap_or_else(IntoResponse::into_response)
}

fn serve(path: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let (index, asset) = ASSETS
        .iter()
        .enumerate()
        .find(|(_, asset)| asset.path == path)
        .ok_or_else(|| ApiError::NoRoute(format!("/dashboard/{path}")))?;
    let etag = etag(index);
    let cache = if path.starts_with("vendor/") {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    out.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    out.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        out.insert(ETAG, value);
    }
    Ok(response)
}

/// A strong ETag per asset, hashed once.
fn etag(index: usize) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = Sha256::digest(asset.body);
                format!("\"{}\"", hex::encode(&digest[..12]))
            })
            .collect()
    });
    &tags[index]
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("static dir") {
            let entry = entry.expect("entry");
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().expect("type").is_dir() {
                files_under(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }

    #[test]
    fn every_static_file_is_served_and_nothing_else() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard/static");
        let mut on_disk = Vec::new();
        files_under(&root, "", &mut on_disk);
        on_disk.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        served.sort();
        assert_eq!(served, on_disk, "ASSETS must list dashboard/static exactly");
    }

    #[test]
    fn every_asset_has_a_known_content_type() {
        for asset in ASSETS {
            assert_ne!(
                content_type(asset.path),
                "application/octet-stream",
                "{}",
                asset.path
            );
        }
    }
}
