//! Knowledge-base spaces: `GET|POST /api/kb/spaces`, `POST /api/kb/spaces/{id}/editors`. The page
//! tree and the pages are synced documents ([`qiao_model::schema::kb`]).
//!
//! Creating a space follows the matrix's "edit the knowledge base" rule for its department
//! (super admins any, department admins their own); granting someone the right to edit a space
//! takes the same right over it. Each write and its audit row are one transaction.

use crate::AppState;
use crate::actions::channels::refuse;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::kb as kb_store;
use crate::store::{AuditRecord, audit_tx};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use qiao_model::acl::{self, Module};
use qiao_model::api::{AddMember, CreateKbSpace, KbSpace};
use qiao_model::audit::Event;
use rand::RngCore;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/kb/spaces", get(list).post(create)).route("/api/kb/spaces/{id}/editors", post(add_editor))
}

async fn list(State(state): State<AppState>, who: AuthUser) -> Result<Json<Vec<KbSpace>>, AppError> {
    if !state.store.module_enabled(Module::Kb).await? {
        return Ok(Json(Vec::new()));
    }
    Ok(Json(state.store.kb_spaces(who.id()).await?))
}

async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<CreateKbSpace>,
) -> Result<Json<KbSpace>, AppError> {
    crate::actions::modules::require_for(&state, Module::Kb, who.id(), Some(&who.ip), "kb.space_create").await?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest("a space name is 1 to 80 characters".into()));
    }
    if let Err(denied) = acl::edit_knowledge_base(&who.actor(), req.dept.as_ref()) {
        let err = AppError::Forbidden(denied.to_string());
        return Err(refuse(&state, &who, Event::KbSpaceCreate, name.to_string(), err).await);
    }
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    let id = format!("s{}", hex::encode(b));
    let mut tx = state.store.begin().await?;
    kb_store::create_space_tx(&mut tx, &id, name, req.dept.as_ref(), who.id()).await?;
    let rec = AuditRecord::ok(Event::KbSpaceCreate)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("kb:{id}"))
        .detail(name.to_string())
        .after(serde_json::json!({ "dept": req.dept }));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    let spaces = state.store.kb_spaces(who.id()).await?;
    spaces.into_iter().find(|s| s.id == id).map(Json).ok_or_else(|| AppError::Internal("space vanished".into()))
}

async fn add_editor(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<AddMember>,
) -> Result<StatusCode, AppError> {
    let Some(dept) = state.store.space_dept(&id).await? else {
        return Err(AppError::NotFound(format!("no space {id}")));
    };
    let target = format!("kb:{id} user:{}", req.user);
    if let Err(denied) = acl::edit_knowledge_base(&who.actor(), dept.as_ref()) {
        let err = AppError::Forbidden(denied.to_string());
        return Err(refuse(&state, &who, Event::KbEditorAdd, target, err).await);
    }
    if !state.store.user_exists_active(req.user).await? {
        return Err(AppError::BadRequest(format!("no active user {}", req.user)));
    }
    let mut tx = state.store.begin().await?;
    if kb_store::grant_tx(&mut tx, &id, req.user, who.id()).await? {
        audit_tx(&mut tx, &AuditRecord::ok(Event::KbEditorAdd).by(who.id()).ip(&who.ip).target(target)).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
