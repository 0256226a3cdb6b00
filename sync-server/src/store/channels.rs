//! Conversation membership.

use super::{Store, Tx, now_ms};
use crate::error::AppError;
use qiao_model::api::Member;
use qiao_model::ids::{ChannelId, UserId};
use sqlx::Row;

/// What the membership rules need to know about a conversation.
#[derive(Clone, Debug)]
pub struct ChannelFacts {
    pub private: bool,
    pub archived: bool,
    pub kind: qiao_model::api::ConversationKind,
    pub members: u32,
    pub created_by: UserId,
}

impl Store {
    pub async fn members(&self, channel: &ChannelId) -> Result<Vec<Member>, AppError> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, u.display_name, m.role FROM channel_members m JOIN users u ON u.id = m.user_id
             WHERE m.channel_id = ? ORDER BY m.role DESC, u.display_name",
        )
        .bind(channel.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Member {
                id: UserId(r.get("id")),
                username: r.get("username"),
                display_name: r.get("display_name"),
                role: r.get("role"),
            })
            .collect())
    }

    /// `Some("owner" | "member")` when `user` belongs to `channel`.
    pub async fn member_role(&self, channel: &ChannelId, user: UserId) -> Result<Option<String>, AppError> {
        Ok(sqlx::query_scalar("SELECT role FROM channel_members WHERE channel_id = ? AND user_id = ?")
            .bind(channel.as_str())
            .bind(user.0)
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn channel_facts(&self, channel: &ChannelId) -> Result<Option<ChannelFacts>, AppError> {
        let row = sqlx::query(
            "SELECT c.private, c.archived, c.kind, c.created_by,
               (SELECT COUNT(*) FROM channel_members m WHERE m.channel_id = c.id) AS members
             FROM channels c WHERE c.id = ?",
        )
        .bind(channel.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| ChannelFacts {
            private: r.get("private"),
            archived: r.get("archived"),
            kind: qiao_model::api::ConversationKind::parse(&r.get::<String, _>("kind")),
            members: r.get::<i64, _>("members") as u32,
            created_by: UserId(r.get("created_by")),
        }))
    }

    pub async fn user_exists_active(&self, user: UserId) -> Result<bool, AppError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE id = ? AND status = 'active'")
            .bind(user.0)
            .fetch_one(self.pool())
            .await?
            > 0)
    }
}

pub async fn add_member_tx(tx: &mut Tx, channel: &ChannelId, user: UserId) -> Result<bool, AppError> {
    let r = sqlx::query(
        "INSERT OR IGNORE INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, 'member', ?)",
    )
    .bind(channel.as_str())
    .bind(user.0)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn remove_member_tx(tx: &mut Tx, channel: &ChannelId, user: UserId) -> Result<bool, AppError> {
    let r = sqlx::query("DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?")
        .bind(channel.as_str())
        .bind(user.0)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn archive_tx(tx: &mut Tx, channel: &ChannelId) -> Result<bool, AppError> {
    let r = sqlx::query("UPDATE channels SET archived = 1 WHERE id = ? AND archived = 0")
        .bind(channel.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The existing 1:1 conversation between two people, if any.
pub async fn find_dm_tx(tx: &mut Tx, a: UserId, b: UserId) -> Result<Option<ChannelId>, AppError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT c.id FROM channels c WHERE c.kind = 'dm'
           AND EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = ?)
           AND EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = ?)
         LIMIT 1",
    )
    .bind(a.0)
    .bind(b.0)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(id.map(ChannelId))
}
