//! `POST /api/admin/import/preview` (body: the CSV text or a JSON array, as is) and
//! `POST /api/admin/import/apply` (`{"token"}`), super admin only. See [`crate::actions::import`].

use crate::AppState;
use crate::actions::import::{self, ImportError, MAX_FILE_BYTES, Rejected};
use crate::auth::SuperAdmin;
use crate::error::AppError;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use qiao_model::api::{ImportApplied, ImportApply, ImportPreview, ImportProgress};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/import/preview", post(preview).layer(DefaultBodyLimit::max(MAX_FILE_BYTES)))
        .route("/api/admin/import/apply", post(apply))
        .route("/api/admin/import/progress/{token}", get(progress))
}

async fn preview(
    State(state): State<AppState>,
    admin: SuperAdmin,
    body: Bytes,
) -> Result<Json<ImportPreview>, ImportError> {
    let text = std::str::from_utf8(&body).map_err(|e| Rejected {
        line: 0,
        message: format!(
            "the file is not UTF-8 text (byte {}): save it as \"CSV UTF-8\" (Excel) or UTF-8 JSON",
            e.valid_up_to()
        ),
    })?;
    Ok(Json(import::do_preview(&state, &admin, text).await?))
}

async fn apply(
    State(state): State<AppState>,
    admin: SuperAdmin,
    Json(req): Json<ImportApply>,
) -> Result<Json<ImportApplied>, ImportError> {
    Ok(Json(import::do_apply(&state, &admin, &req.token).await?))
}

/// How far the apply of `token` has got, while it runs.
async fn progress(
    State(state): State<AppState>,
    _admin: SuperAdmin,
    Path(token): Path<String>,
) -> Result<Json<ImportProgress>, AppError> {
    state
        .import_progress
        .get(&token)
        .map(Json)
        .ok_or_else(|| AppError::NotFound("no import is being applied with this token".into()))
}
