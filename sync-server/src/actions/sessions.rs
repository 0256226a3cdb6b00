//! The caller's own account: log out every other device, change the password.

use crate::AppState;
use crate::auth::{self, AuthUser};
use crate::error::AppError;
use crate::store::{AuditRecord, audit_tx, sessions};
use qiao_model::api::{ChangePassword, LoggedOutOthers, MIN_PASSWORD_CHARS};
use qiao_model::audit::Event;

/// Change the caller's own password: the current one must be right and the new one long enough
/// and different. Every other session ends (a changed password is how people lock out a device
/// they lost); this one stays. Refusals are audited like failed logins.
pub async fn do_change_password(
    state: &AppState,
    who: &AuthUser,
    req: &ChangePassword,
) -> Result<LoggedOutOthers, AppError> {
    let (current, hash) = (req.current.clone(), who.user.password_hash.clone());
    let right = tokio::task::spawn_blocking(move || auth::verify_password(&current, &hash)).await.unwrap_or(false);
    let problem = if !right {
        Some("the current password is not right")
    } else if req.new.chars().count() < MIN_PASSWORD_CHARS {
        Some("the new password must have at least 8 characters")
    } else if req.new == req.current {
        Some("the new password must differ from the current one")
    } else {
        None
    };
    if let Some(why) = problem {
        let rec = AuditRecord::refused(Event::AuthPasswordChange)
            .by(who.id())
            .ip(&who.ip)
            .target(format!("user:{}", who.id()))
            .detail(why.to_string());
        let mut tx = state.store.begin().await?;
        audit_tx(&mut tx, &rec).await?;
        tx.commit().await?;
        return Err(AppError::BadRequest(why.into()));
    }
    let new = req.new.clone();
    let new_hash = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let mut tx = state.store.begin().await?;
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(&new_hash)
        .bind(who.id().0)
        .execute(&mut *tx)
        .await?;
    let revoked = sessions::revoke_user_sessions(&mut tx, who.id(), Some(who.session_id)).await?;
    let rec = AuditRecord::ok(Event::AuthPasswordChange)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("user:{}", who.id()))
        .detail(format!("other sessions revoked: {}", revoked.len()));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    state.connections.close_sessions(&revoked, "password changed");
    Ok(LoggedOutOthers { revoked: revoked.len() as u64 })
}

/// Revoke every session of the caller but the current one, and close their sockets.
pub async fn do_logout_others(state: &AppState, who: &AuthUser) -> Result<LoggedOutOthers, AppError> {
    let mut tx = state.store.begin().await?;
    let revoked = sessions::revoke_user_sessions(&mut tx, who.id(), Some(who.session_id)).await?;
    let ids: Vec<String> = revoked.iter().map(i64::to_string).collect();
    let rec = AuditRecord::ok(Event::SessionLogoutOthers)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("user:{}", who.id()))
        .detail(format!("sessions revoked: {}", ids.join(" ")));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    state.connections.close_sessions(&revoked, "session ended");
    Ok(LoggedOutOthers { revoked: revoked.len() as u64 })
}
