//! Conversation membership.

use super::{Store, Tx, now_ms};
use crate::error::AppError;
use qiao_model::api::Member;
use qiao_model::ids::{ChannelId, UserId};
use sqlx::Row;

/// Where a page of members ends: the last row's place in the order (owner first, name, id).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberCursor {
    /// 1 for an owner, 0 for a member.
    pub rank: i64,
    pub name: String,
    pub id: i64,
}

impl MemberCursor {
    pub fn of(m: &Member) -> Self {
        Self { rank: (m.role == "owner") as i64, name: m.display_name.clone(), id: m.id.0 }
    }

    /// Opaque to clients: base64url of JSON.
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("plain data"))
    }

    pub fn decode(s: &str) -> Option<Self> {
        use base64::Engine;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?).ok()
    }
}

/// What the membership rules need to know about a conversation.
#[derive(Clone, Debug)]
pub struct ChannelFacts {
    pub private: bool,
    pub archived: bool,
    pub kind: qiao_model::api::ConversationKind,
    pub members: u32,
    pub created_by: UserId,
}

/// A member from a row with `id, username, display_name, role` (conversations and projects).
pub(crate) fn member_from_row(r: &sqlx::sqlite::SqliteRow) -> Member {
    Member {
        id: UserId(r.get("id")),
        username: r.get("username"),
        display_name: r.get("display_name"),
        role: r.get("role"),
    }
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
        Ok(rows.iter().map(member_from_row).collect())
    }

    /// One page of `channel`'s members matching `q` (name or username, case-insensitive),
    /// owners first, then by display name and id: keyset-paged after `after` (the last row of
    /// the previous page), so a page costs the same at the end of 10,000 members as at the start
    /// and people joining meanwhile do not shift later pages.
    pub async fn members_page(
        &self,
        channel: &ChannelId,
        q: &str,
        after: Option<&MemberCursor>,
        limit: u32,
    ) -> Result<(Vec<Member>, u32), AppError> {
        let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        const MATCH: &str =
            "m.channel_id = ? AND (? = '' OR u.display_name LIKE ? ESCAPE '\\' OR u.username LIKE ? ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM channel_members m JOIN users u ON u.id = m.user_id WHERE {MATCH}"
        ))
        .bind(channel.as_str())
        .bind(q)
        .bind(&pattern)
        .bind(&pattern)
        .fetch_one(self.pool())
        .await?;
        let (rank, name, id) = after.map(|c| (c.rank, c.name.clone(), c.id)).unwrap_or((2, String::new(), i64::MIN));
        let rows = sqlx::query(&format!(
            "SELECT u.id, u.username, u.display_name, m.role, (m.role = 'owner') AS rank
             FROM channel_members m JOIN users u ON u.id = m.user_id
             WHERE {MATCH} AND ((m.role = 'owner') < ?
                  OR ((m.role = 'owner') = ? AND (u.display_name > ? OR (u.display_name = ? AND u.id > ?))))
             ORDER BY rank DESC, u.display_name, u.id LIMIT ?"
        ))
        .bind(channel.as_str())
        .bind(q)
        .bind(&pattern)
        .bind(&pattern)
        .bind(rank)
        .bind(rank)
        .bind(&name)
        .bind(&name)
        .bind(id)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        let members = rows.iter().map(member_from_row).collect();
        Ok((members, total as u32))
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
