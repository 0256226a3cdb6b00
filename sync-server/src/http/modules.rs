//! `GET /api/modules` (everyone), `PUT /api/admin/modules` (super admin).

use crate::AppState;
use crate::actions::modules;
use crate::auth::{AuthUser, SuperAdmin};
use crate::error::AppError;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use qiao_model::api::ModuleStates;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/modules", get(list)).route("/api/admin/modules", put(set))
}

async fn list(State(state): State<AppState>, _who: AuthUser) -> Result<Json<ModuleStates>, AppError> {
    Ok(Json(state.store.modules().await?))
}

/// Body: `{"chat": false, ...}`, only the modules to change.
async fn set(
    State(state): State<AppState>,
    admin: SuperAdmin,
    Json(changes): Json<BTreeMap<String, bool>>,
) -> Result<Json<ModuleStates>, AppError> {
    Ok(Json(modules::do_set_modules(&state, &admin, &changes).await?))
}
