//! The relay's error type. What a client sees is an [`ApiError`] body with a stable code; the
//! internals (SQL errors and the like) are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qiao_model::api::{ApiError, UploadState};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not logged in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many attempts, try again in {0} s")]
    RateLimited(u64),
    /// 429: a sync connection over the per-person cap (`--max-connections-per-user`).
    #[error("{0}")]
    TooManyConnections(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// 413: over a size limit, refused before the bytes are stored.
    #[error("{0}")]
    TooLarge(String),
    /// 422: an upload whose bytes do not hash to the SHA-256 it announced.
    #[error("{0}")]
    HashMismatch(String),
    /// 409 for an upload chunk sent at the wrong offset (or to a finished upload): the body is
    /// the error and the upload's [`UploadState`] in one object, so the client can resume at
    /// `received` without asking again.
    #[error("{message}")]
    UploadOffset { message: String, state: Box<UploadState> },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            AppError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            AppError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::TooManyConnections(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_connections"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::HashMismatch(_) => (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch"),
            AppError::UploadOffset { .. } => (StatusCode::CONFLICT, "upload_offset"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let message = match &self {
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "something went wrong on the server".to_string()
            }
            AppError::UploadOffset { message, state } => {
                let mut body = serde_json::to_value(state).unwrap_or_default();
                body["code"] = code.into();
                body["message"] = message.as_str().into();
                return (status, Json(body)).into_response();
            }
            other => other.to_string(),
        };
        (status, Json(ApiError { code: code.into(), message })).into_response()
    }
}
