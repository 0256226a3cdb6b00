//! Deactivating accounts.
//!
//! Deactivation marks the account, revokes every session and writes the audit row in one
//! transaction; after the commit the account's live sockets are closed (by the user index of
//! [`Connections`](crate::sync::connections::Connections), and by session for good measure), and
//! the directory document is republished. The next login is refused (inactive account), and a
//! revoked session can neither call the API nor open a socket.

use crate::AppState;
use crate::actions::directory;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::{AuditRecord, audit_tx, directory as dir_store, sessions};
use qiao_model::acl;
use qiao_model::api::Deactivated;
use qiao_model::audit::Event;
use qiao_model::ids::UserId;

/// Deactivate `target`: super admins anyone but themselves, department admins the employees of
/// their own department ([`acl::manage_user`]). Refusals: 403 and one audit row, nothing else.
pub async fn do_deactivate(state: &AppState, who: &AuthUser, target: UserId) -> Result<Deactivated, AppError> {
    let mut tx = state.store.begin().await?;
    let found = dir_store::user_tx(&mut tx, target).await?;
    let refusal = match &found {
        None => Some(AppError::NotFound(format!("no user {target}"))),
        Some(t) => acl::manage_user(&who.actor(), t.me.role, t.dept.as_ref(), t.me.id == who.id())
            .err()
            .map(|denied| AppError::Forbidden(format!("you may not deactivate this account: {denied}"))),
    };
    if let Some(err) = refusal {
        tx.rollback().await?; // nothing was written
        let rec = AuditRecord::refused(Event::UserDeactivate)
            .by(who.id())
            .ip(&who.ip)
            .target(format!("user:{target}"))
            .detail(err.to_string());
        state.store.audit_record(&rec).await?;
        return Err(err);
    }
    let t = found.expect("checked above");
    if !dir_store::deactivate_user(&mut tx, target).await? {
        return Err(AppError::Conflict(format!("{} is already deactivated", t.me.username)));
    }
    let revoked = sessions::revoke_user_sessions(&mut tx, target, None).await?;
    let rec = AuditRecord::ok(Event::UserDeactivate)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("user:{target}"))
        .detail(format!("{} ({}), {} sessions revoked", t.me.username, t.me.display_name, revoked.len()))
        .before(serde_json::json!({ "status": "active" }))
        .after(serde_json::json!({ "status": "deactivated" }));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;

    state.connections.close_user(target, "account deactivated");
    state.connections.close_sessions(&revoked, "account deactivated");
    directory::publish_after_commit(state).await;
    Ok(Deactivated { user: target, sessions_revoked: revoked.len() as u64 })
}
