//! `POST /api/admin/users/{id}/deactivate`: super admins, and department admins for the
//! employees of their own department.

use crate::AppState;
use crate::actions::users;
use crate::auth::DeptAdmin;
use crate::error::AppError;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use qiao_model::api::Deactivated;
use qiao_model::ids::UserId;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/users/{id}/deactivate", post(deactivate))
}

async fn deactivate(
    State(state): State<AppState>,
    admin: DeptAdmin,
    Path(id): Path<i64>,
) -> Result<Json<Deactivated>, AppError> {
    Ok(Json(users::do_deactivate(&state, &admin, UserId(id)).await?))
}
