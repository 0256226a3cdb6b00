//! `GET /api/sessions`, `POST /api/sessions/logout-others`: the caller's own sessions.

use crate::AppState;
use crate::actions::sessions;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use qiao_model::api::{LoggedOutOthers, SessionInfo};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/sessions", get(list)).route("/api/sessions/logout-others", post(logout_others))
}

async fn list(State(state): State<AppState>, who: AuthUser) -> Result<Json<Vec<SessionInfo>>, AppError> {
    Ok(Json(state.store.live_sessions(who.id(), who.session_id).await?))
}

async fn logout_others(State(state): State<AppState>, who: AuthUser) -> Result<Json<LoggedOutOthers>, AppError> {
    Ok(Json(sessions::do_logout_others(&state, &who).await?))
}
