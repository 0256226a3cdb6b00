//! The file library (文件库): `GET /api/library`, `POST /api/library/folders`,
//! `GET|PATCH|DELETE /api/library/folders/{id}`, `POST /api/library/folders/{id}/files`,
//! `DELETE /api/library/files/{id}`, `POST /api/library/files/{id}/versions/{n}/review` and
//! `POST /api/library/files/{id}/versions/{n}/restore`.
//! The rules are in [`crate::actions::library`]; file bytes go through `/api/uploads` and
//! `/api/files` with the folder as the upload's scope.

use crate::AppState;
use crate::actions::library as act;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use qiao_model::library::{AddFile, Folder, FolderChange, FolderListing, Library, LibraryFile, NewFolder, Review};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/library", get(library))
        .route("/api/library/folders", post(create_folder))
        .route("/api/library/folders/{id}", get(listing).patch(change_folder).delete(delete_folder))
        .route("/api/library/folders/{id}/files", post(add_file))
        .route("/api/library/files/{id}", delete(delete_file))
        .route("/api/library/files/{id}/versions/{n}/review", post(review))
        .route("/api/library/files/{id}/versions/{n}/restore", post(restore))
}

async fn library(State(state): State<AppState>, who: AuthUser) -> Result<Json<Library>, AppError> {
    Ok(Json(act::library(&state, &who).await?))
}

async fn create_folder(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<NewFolder>,
) -> Result<Json<Folder>, AppError> {
    Ok(Json(act::do_create_folder(&state, &who, &req).await?))
}

async fn listing(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<FolderListing>, AppError> {
    Ok(Json(act::listing(&state, &who, &id).await?))
}

async fn change_folder(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<FolderChange>,
) -> Result<Json<Folder>, AppError> {
    Ok(Json(act::do_change_folder(&state, &who, &id, &req).await?))
}

async fn delete_folder(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    act::do_delete_folder(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_file(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<AddFile>,
) -> Result<Json<LibraryFile>, AppError> {
    Ok(Json(act::do_add_file(&state, &who, &id, &req).await?))
}

async fn delete_file(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    act::do_delete_file(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn restore(
    State(state): State<AppState>,
    who: AuthUser,
    Path((id, n)): Path<(String, u32)>,
) -> Result<Json<LibraryFile>, AppError> {
    Ok(Json(act::do_restore(&state, &who, &id, n).await?))
}

async fn review(
    State(state): State<AppState>,
    who: AuthUser,
    Path((id, n)): Path<(String, u32)>,
    Json(req): Json<Review>,
) -> Result<Json<LibraryFile>, AppError> {
    Ok(Json(act::do_review(&state, &who, &id, n, &req).await?))
}
