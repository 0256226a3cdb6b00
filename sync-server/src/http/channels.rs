//! Conversations: `GET|POST /api/channels`, `POST /api/dms`, members and archiving.

use crate::AppState;
use crate::actions::channels as act;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::channels::MemberCursor;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use qiao_model::api::{AddMember, ChannelSummary, CreateChannel, MemberPage, OpenDm};
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

/// `GET /api/channels/{id}/members` query: a filter, a page size and where the page starts.
#[derive(serde::Deserialize)]
struct MembersQuery {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
    after: Option<String>,
}

/// Members per page unless asked otherwise, and at most.
const MEMBERS_PAGE: u32 = 200;
const MEMBERS_PAGE_MAX: u32 = 1_000;

/// Members are visible to whoever may read the conversation, a page at a time.
async fn members(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Query(query): Query<MembersQuery>,
) -> Result<Json<MemberPage>, AppError> {
    let id = ChannelId(id);
    let facts = state.store.channel_facts(&id).await?;
    let readable = match &facts {
        Some(f) => !f.private || state.store.member_role(&id, who.id()).await?.is_some(),
        None => false,
    };
    if !readable {
        return Err(AppError::NotFound(format!("no conversation {id}")));
    }
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(MemberCursor::decode(a).ok_or_else(|| AppError::BadRequest("after: not a cursor".into()))?),
        None => None,
    };
    let limit = query.limit.unwrap_or(MEMBERS_PAGE).clamp(1, MEMBERS_PAGE_MAX);
    let q = query.q.trim();
    if q.chars().count() > 100 {
        return Err(AppError::BadRequest("q: at most 100 characters".into()));
    }
    let (members, total) = state.store.members_page(&id, q, after.as_ref(), limit + 1).await?;
    let mut members = members;
    let next = (members.len() > limit as usize).then(|| {
        members.truncate(limit as usize);
        MemberCursor::of(members.last().expect("a full page")).encode()
    });
    Ok(Json(MemberPage { members, total, next }))
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
