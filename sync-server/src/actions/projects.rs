//! Projects: creating them and managing who is in them.
//!
//! Anyone may start a project (a team's to-do list needs no admin); its creator owns it. The
//! owner and super admins add and remove members; anyone may leave. Removing someone ends their
//! live sync of the board at once; a private project's board is then unavailable to them.
//! Every write and its audit row are one transaction.

use super::channels::refuse;
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::projects::{self as pr, ProjectFacts};
use crate::store::{AuditRecord, DocKind, audit_tx};
use qiao_model::acl::{Module, Role};
use qiao_model::api::{CreateProject, ProjectSummary, ProjectVisibility};
use qiao_model::audit::Event;
use qiao_model::ids::{ProjectId, UserId};
use rand::RngCore;

pub const MAX_PROJECT_NAME: usize = 80;
pub const MAX_PROJECT_DESCRIPTION: usize = 2_000;
/// Members given at creation; more are added one by one.
pub const MAX_INITIAL_MEMBERS: usize = 500;

pub fn new_project_id() -> ProjectId {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    ProjectId(format!("p{}", hex::encode(b)))
}

pub async fn do_create(state: &AppState, who: &AuthUser, req: &CreateProject) -> Result<ProjectSummary, AppError> {
    super::modules::require_for(state, Module::Tasks, who.id(), Some(&who.ip), "project.create").await?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > MAX_PROJECT_NAME || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(format!("a project name is 1 to {MAX_PROJECT_NAME} characters")));
    }
    let description = req.description.trim();
    if description.chars().count() > MAX_PROJECT_DESCRIPTION {
        return Err(AppError::BadRequest(format!("a description is at most {MAX_PROJECT_DESCRIPTION} characters")));
    }
    let mut members: Vec<UserId> = req.members.iter().copied().filter(|m| *m != who.id()).collect();
    members.sort();
    members.dedup();
    if members.len() > MAX_INITIAL_MEMBERS {
        return Err(AppError::BadRequest(format!("at most {MAX_INITIAL_MEMBERS} members at creation")));
    }
    for m in &members {
        if !state.store.user_exists_active(*m).await? {
            return Err(AppError::BadRequest(format!("no active user {m}")));
        }
    }
    let id = new_project_id();
    let mut tx = state.store.begin().await?;
    pr::create_project_tx(&mut tx, &id, name, description, req.visibility, who.id(), &members).await?;
    let rec = AuditRecord::ok(Event::ProjectCreate)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("project:{id}"))
        .detail(name.to_string())
        .after(serde_json::json!({ "visibility": req.visibility.as_str(), "members": members }));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    state.store.project_summary(&id, who.id()).await?.ok_or_else(|| AppError::Internal("project vanished".into()))
}

async fn facts(state: &AppState, id: &ProjectId) -> Result<ProjectFacts, AppError> {
    state.store.project_facts(id).await?.ok_or_else(|| AppError::NotFound(format!("no project {id}")))
}

/// Whether `who` may see `id` at all (members; everyone for a company-visible project). A
/// project they may not see answers as if it did not exist.
pub async fn readable(state: &AppState, who: &AuthUser, id: &ProjectId) -> Result<ProjectFacts, AppError> {
    let f = facts(state, id).await?;
    if f.visibility == ProjectVisibility::Company || state.store.project_role(id, who.id()).await?.is_some() {
        Ok(f)
    } else {
        Err(AppError::NotFound(format!("no project {id}")))
    }
}

fn manages(who: &AuthUser, f: &ProjectFacts) -> bool {
    f.owner == who.id() || who.user.me.role == Role::SuperAdmin
}

pub async fn do_add_member(state: &AppState, who: &AuthUser, id: &ProjectId, user: UserId) -> Result<(), AppError> {
    super::modules::require_for(state, Module::Tasks, who.id(), Some(&who.ip), "project.member_add").await?;
    let f = readable(state, who, id).await?;
    let target = format!("project:{id} user:{user}");
    if !manages(who, &f) {
        let err = AppError::Forbidden("only the project's owner or a super admin may add people".into());
        return Err(refuse(state, who, Event::ProjectMemberAdd, target, err).await);
    }
    if !state.store.user_exists_active(user).await? {
        return Err(AppError::BadRequest(format!("no active user {user}")));
    }
    let mut tx = state.store.begin().await?;
    if pr::add_member_tx(&mut tx, id, user).await? {
        let rec = AuditRecord::ok(Event::ProjectMemberAdd).by(who.id()).ip(&who.ip).target(target);
        audit_tx(&mut tx, &rec).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn do_remove_member(state: &AppState, who: &AuthUser, id: &ProjectId, user: UserId) -> Result<(), AppError> {
    let f = readable(state, who, id).await?;
    let target = format!("project:{id} user:{user}");
    if user != who.id() && !manages(who, &f) {
        let err = AppError::Forbidden("only the project's owner or a super admin may remove people".into());
        return Err(refuse(state, who, Event::ProjectMemberRemove, target, err).await);
    }
    if user == f.owner {
        let err = AppError::BadRequest("the owner stays in the project".into());
        return Err(refuse(state, who, Event::ProjectMemberRemove, target, err).await);
    }
    let mut tx = state.store.begin().await?;
    let removed = pr::remove_member_tx(&mut tx, id, user).await?;
    if removed {
        let rec = AuditRecord::ok(Event::ProjectMemberRemove).by(who.id()).ip(&who.ip).target(target);
        audit_tx(&mut tx, &rec).await?;
    }
    tx.commit().await?;
    if removed {
        // Their open sync ends either way: a company-visible board reopens read-only.
        let project = id.clone();
        state.registry.revoke(user, move |k| matches!(k, DocKind::ProjectBoard { project: p } if *p == project)).await;
    }
    Ok(())
}
