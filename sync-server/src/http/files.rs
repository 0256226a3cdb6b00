//! Uploads and downloads: `POST /api/uploads`, `GET|PUT /api/uploads/{id}`,
//! `POST /api/uploads/{id}/complete`, `GET /api/files/{id}` and `GET /api/files/{id}/meta`.
//!
//! Chunks are streamed to disk as they arrive and downloads are streamed from disk, so memory
//! stays flat whatever the file's size. A download is served so that it can never run in the
//! app's origin: only raster images are `inline` with their own type; everything else (SVG and
//! HTML included) is an `attachment` of type `application/octet-stream`, and every file response
//! carries `nosniff` and a `sandbox` content security policy that the app's policy does not
//! override (see [`super::security_headers`]).

use crate::AppState;
use crate::actions::files as act;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiao_model::api::{FileInfo, ForwardFile, NewUpload, UploadState};
use qiao_model::files::{ByteRange as Range, MAX_CHUNK_BYTES, content_disposition, inline_image, parse_range};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// What a file response's own policy allows: nothing. Opened directly, an HTML file gets no
/// script, no plugins, no same-origin access.
pub const FILE_CSP: &str = "sandbox; default-src 'none'";

/// A PDF shown in the file library's preview: framed by the app only, and no `sandbox`, under
/// which Chrome refuses to start its PDF viewer. The viewer runs the document's own scripts (if
/// any) in its own engine, never in the app's origin; `nosniff` and the explicit type keep a
/// file announced as a PDF from being read as anything else.
pub const PDF_PREVIEW_CSP: &str = "default-src 'none'; frame-ancestors 'self'";

/// The bytes under a file id never change; an hour bounds how long a browser shows a file it
/// already fetched without asking (and being checked) again.
const FILE_CACHE: &str = "private, max-age=3600";

/// Read size when streaming a file out.
const READ_BUF: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/uploads", post(start))
        .route(
            "/api/uploads/{id}",
            // The chunk is streamed and counted as it arrives (`Body` is not subject to the
            // limit); the limit still caps any buffering extractor added here later.
            get(upload_state).put(put_chunk).layer(DefaultBodyLimit::max(MAX_CHUNK_BYTES)),
        )
        .route("/api/uploads/{id}/complete", post(complete))
        .route("/api/files/{id}", get(download))
        .route("/api/files/{id}/meta", get(meta))
        .route("/api/files/{id}/forward", post(forward))
}

async fn forward(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<ForwardFile>,
) -> Result<Json<FileInfo>, AppError> {
    Ok(Json(act::do_forward(&state, &who, &id, &req.channel).await?))
}

async fn start(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<NewUpload>,
) -> Result<Json<UploadState>, AppError> {
    Ok(Json(act::do_start_upload(&state, &who, &req).await?))
}

async fn upload_state(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<UploadState>, AppError> {
    Ok(Json(act::upload_state(&state, &who, &id).await?))
}

#[derive(Deserialize)]
struct ChunkAt {
    offset: Option<u64>,
}

async fn put_chunk(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    at: Result<Query<ChunkAt>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadState>, AppError> {
    let offset = at
        .ok()
        .and_then(|q| q.0.offset)
        .ok_or_else(|| AppError::BadRequest("say where the chunk goes: ?offset=N (bytes)".into()))?;
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    Ok(Json(act::do_put_chunk(&state, &who, &id, offset, length, body.into_data_stream()).await?))
}

async fn complete(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<FileInfo>, AppError> {
    Ok(Json(act::do_complete(&state, &who, &id).await?))
}

async fn meta(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<FileInfo>, AppError> {
    Ok(Json(act::readable_file(&state, &who, &id).await?))
}

#[derive(Deserialize)]
struct Shown {
    /// `?preview=1`: a PDF is served inline as `application/pdf`, for the browser's own viewer
    /// in the file library's preview (see [`PDF_PREVIEW_CSP`]).
    preview: Option<u8>,
}

async fn download(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    shown: Result<Query<Shown>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let file = act::readable_file(&state, &who, &id).await?;
    let mut blob = state.blobs.open_blob(&file.sha256).await?;
    let pdf_preview = shown.ok().and_then(|q| q.0.preview).is_some_and(|p| p == 1) && file.mime == "application/pdf";
    let inline = inline_image(&file.mime) || pdf_preview;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map(|r| parse_range(r, file.size));

    let mut res = match range {
        Some(Range::Unsatisfiable) => {
            let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            res.headers_mut().insert(header::CONTENT_RANGE, value(&format!("bytes */{}", file.size))?);
            res
        }
        Some(Range::Bytes(start, end)) => {
            blob.seek(std::io::SeekFrom::Start(start)).await?;
            let len = end - start + 1;
            let body = Body::from_stream(ReaderStream::with_capacity(blob.take(len), READ_BUF));
            let mut res = (StatusCode::PARTIAL_CONTENT, body).into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_RANGE, value(&format!("bytes {start}-{end}/{}", file.size))?);
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            res
        }
        // No range, or one this server does not serve (several ranges): the whole file.
        None | Some(Range::Whole) => {
            let body = Body::from_stream(ReaderStream::with_capacity(blob, READ_BUF));
            let mut res = (StatusCode::OK, body).into_response();
            res.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
            res
        }
    };
    let h = res.headers_mut();
    let mime = if inline { file.mime.as_str() } else { "application/octet-stream" };
    h.insert(header::CONTENT_TYPE, value(mime)?);
    h.insert(header::CONTENT_DISPOSITION, value(&content_disposition(inline, &file.name))?);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if pdf_preview {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PDF_PREVIEW_CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    } else {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_CSP));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(FILE_CACHE));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, value(&format!("\"{}\"", file.sha256))?);
    Ok(res)
}

fn value(s: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(s).map_err(|e| AppError::Internal(format!("header value {s:?}: {e}")))
}
