//! `GET /api/settings/client` (everyone: what the app must know, e.g. the offline-cache expiry),
//! `PUT /api/admin/settings/client` (super admin); the same pair for `files` (the upload limit,
//! which the app checks before it starts sending).

use crate::AppState;
use crate::actions::settings;
use crate::auth::{AuthUser, SuperAdmin};
use crate::error::AppError;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use qiao_model::api::{ClientSettings, FileSettings};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/settings/client", get(client))
        .route("/api/admin/settings/client", put(set_client))
        .route("/api/settings/files", get(files))
        .route("/api/admin/settings/files", put(set_files))
}

async fn client(State(state): State<AppState>, _who: AuthUser) -> Result<Json<ClientSettings>, AppError> {
    Ok(Json(settings::client_settings(&state).await?))
}

async fn set_client(
    State(state): State<AppState>,
    admin: SuperAdmin,
    Json(new): Json<ClientSettings>,
) -> Result<Json<ClientSettings>, AppError> {
    Ok(Json(settings::do_set_client_settings(&state, &admin, &new).await?))
}

async fn files(State(state): State<AppState>, _who: AuthUser) -> Result<Json<FileSettings>, AppError> {
    Ok(Json(settings::file_settings(&state).await?))
}

async fn set_files(
    State(state): State<AppState>,
    admin: SuperAdmin,
    Json(new): Json<FileSettings>,
) -> Result<Json<FileSettings>, AppError> {
    Ok(Json(settings::do_set_file_settings(&state, &admin, &new).await?))
}
