//! `GET /api/channels`, `POST /api/channels`.

use crate::AppState;
use crate::actions;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use qiao_model::api::{ChannelSummary, CreateChannel};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/channels", get(list).post(create))
}

async fn list(State(state): State<AppState>, who: AuthUser) -> Result<Json<Vec<ChannelSummary>>, AppError> {
    Ok(Json(state.store.channels_for(who.user.me.id).await?))
}

async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<CreateChannel>,
) -> Result<Json<ChannelSummary>, AppError> {
    Ok(Json(actions::channels::do_create_channel(&state, &who.user, &req).await?))
}
