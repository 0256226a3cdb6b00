//! Conversations: `GET|POST /api/channels`, `POST /api/dms`, members and archiving.

use crate::AppState;
use crate::actions::channels as act;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use qiao_model::api::{AddMember, ChannelSummary, CreateChannel, Member, OpenDm};
use qiao_model::ids::{ChannelId, UserId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/channels", get(list).post(create))
        .route("/api/dms", post(open_dm))
        .route("/api/channels/{id}/members", get(members).post(add_member))
        .route("/api/channels/{id}/members/{user}", delete(remove_member))
        .route("/api/channels/{id}/archive", post(archive))
}

async fn list(State(state): State<AppState>, who: AuthUser) -> Result<Json<Vec<ChannelSummary>>, AppError> {
    Ok(Json(state.store.channels_for(who.id()).await?))
}

async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<CreateChannel>,
) -> Result<Json<ChannelSummary>, AppError> {
    Ok(Json(act::do_create_channel(&state, &who, &req).await?))
}

async fn open_dm(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<OpenDm>,
) -> Result<Json<ChannelSummary>, AppError> {
    Ok(Json(act::do_open_dm(&state, &who, req.user).await?))
}

/// Members are visible to whoever may read the conversation.
async fn members(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<Member>>, AppError> {
    let id = ChannelId(id);
    let facts = state.store.channel_facts(&id).await?;
    let readable = match &facts {
        Some(f) => !f.private || state.store.member_role(&id, who.id()).await?.is_some(),
        None => false,
    };
    if !readable {
        return Err(AppError::NotFound(format!("no conversation {id}")));
    }
    Ok(Json(state.store.members(&id).await?))
}

async fn add_member(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<AddMember>,
) -> Result<StatusCode, AppError> {
    act::do_add_member(&state, &who, &ChannelId(id), req.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    who: AuthUser,
    Path((id, user)): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    act::do_remove_member(&state, &who, &ChannelId(id), UserId(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn archive(State(state): State<AppState>, who: AuthUser, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    act::do_archive(&state, &who, &ChannelId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
