//! The caller's own sessions: log out every other device.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::{AuditRecord, audit_tx, sessions};
use qiao_model::api::LoggedOutOthers;
use qiao_model::audit::Event;

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
