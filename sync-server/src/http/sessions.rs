//! `GET /api/sessions`, `POST /api/sessions/logout-others`: the caller's own sessions.

use crate::AppState;
use crate::actions::sessions;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use qiao_model::api::{ChangePassword, LoggedOutOthers, SessionInfo};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/logout-others", post(logout_others))
        .route("/api/me/password", post(change_password))
}

async fn list(State(state): State<AppState>, who: AuthUser) -> Result<Json<Vec<SessionInfo>>, AppError> {
    Ok(Json(state.store.live_sessions(who.id(), who.session_id).await?))
}

async fn change_password(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<ChangePassword>,
) -> Result<Json<LoggedOutOthers>, AppError> {
    Ok(Json(sessions::do_change_password(&state, &who, &req).await?))
}

async fn logout_others(State(state): State<AppState>, who: AuthUser) -> Result<Json<LoggedOutOthers>, AppError> {
    Ok(Json(sessions::do_logout_others(&state, &who).await?))
}
