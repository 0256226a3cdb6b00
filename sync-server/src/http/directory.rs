//! `GET /api/directory`: departments and people, for every logged-in user.

use crate::AppState;
use crate::actions::directory;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use qiao_model::api::Directory;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/directory", get(get_directory))
}

async fn get_directory(State(state): State<AppState>, _who: AuthUser) -> Result<Json<Directory>, AppError> {
    Ok(Json(directory::directory(&state).await?))
}
