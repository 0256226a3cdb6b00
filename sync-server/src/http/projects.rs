//! Projects: `GET|POST /api/projects`, members. The board is synced, not served here.

use crate::AppState;
use crate::actions::projects as act;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use qiao_model::acl::Module;
use qiao_model::api::{AddMember, CreateProject, Member, ProjectSummary};
use qiao_model::ids::{ProjectId, UserId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/projects", get(list).post(create))
        .route("/api/projects/{id}/members", get(members).post(add_member))
        .route("/api/projects/{id}/members/{user}", delete(remove_member))
}

async fn list(State(state): State<AppState>, who: AuthUser) -> Result<Json<Vec<ProjectSummary>>, AppError> {
    // With the module off there is nothing to list (the boards are refused at the relay too).
    if !state.store.module_enabled(Module::Tasks).await? {
        return Ok(Json(Vec::new()));
    }
    Ok(Json(state.store.projects_for(who.id()).await?))
}

async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<CreateProject>,
) -> Result<Json<ProjectSummary>, AppError> {
    Ok(Json(act::do_create(&state, &who, &req).await?))
}

async fn members(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<Member>>, AppError> {
    let id = ProjectId(id);
    act::readable(&state, &who, &id).await?;
    Ok(Json(state.store.project_members(&id).await?))
}

async fn add_member(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<AddMember>,
) -> Result<StatusCode, AppError> {
    act::do_add_member(&state, &who, &ProjectId(id), req.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    who: AuthUser,
    Path((id, user)): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    act::do_remove_member(&state, &who, &ProjectId(id), UserId(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}
