//! Listing and revoking a user's sessions (logging out other devices, deactivation).

use super::{Store, Tx, now_ms};
use crate::error::AppError;
use qiao_model::api::SessionInfo;
use qiao_model::ids::UserId;
use sqlx::Row;

impl Store {
    /// `user`'s live sessions (not revoked, not expired), newest first; `current` marks one.
    pub async fn live_sessions(&self, user: UserId, current: i64) -> Result<Vec<SessionInfo>, AppError> {
        let rows = sqlx::query(
            "SELECT id, created_at, expires_at, user_agent, ip FROM sessions
             WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id DESC",
        )
        .bind(user.0)
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| SessionInfo {
                id: r.get("id"),
                created_at: r.get("created_at"),
                expires_at: r.get("expires_at"),
                user_agent: r.get("user_agent"),
                ip: r.get("ip"),
                current: r.get::<i64, _>("id") == current,
            })
            .collect())
    }
}

/// Revoke every unrevoked session of `user` except `keep`; the ids revoked.
pub async fn revoke_user_sessions(tx: &mut Tx, user: UserId, keep: Option<i64>) -> Result<Vec<i64>, AppError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id != ? RETURNING id",
    )
    .bind(now_ms())
    .bind(user.0)
    .bind(keep.unwrap_or(-1))
    .fetch_all(&mut **tx)
    .await?;
    Ok(ids)
}
