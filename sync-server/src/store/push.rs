//! Web push subscriptions and the task reminders the relay pushes (see [`crate::push`]).

use super::{Store, now_ms};
use crate::error::AppError;
use qiao_model::api::ConversationKind;
use qiao_model::ids::{ChannelId, DocumentId, ProjectId, UserId};
use sqlx::Row;

/// Where and how to reach one device of a user.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: i64,
    pub user: UserId,
    pub endpoint: String,
    /// The device's P-256 public key (65 bytes, uncompressed).
    pub p256dh: Vec<u8>,
    /// The device's 16-byte authentication secret.
    pub auth: Vec<u8>,
}

/// A task reminder as the relay keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub task_id: String,
    pub title: String,
    pub remind_at: i64,
    pub assignees: Vec<UserId>,
}

/// A reminder that is due.
#[derive(Clone, Debug)]
pub struct DueReminder {
    pub document: DocumentId,
    pub project: ProjectId,
    pub reminder: Reminder,
}

/// Consecutive failed deliveries after which a subscription is dropped.
const MAX_FAILURES: i64 = 5;

impl Store {
    /// Record (or move to this session) a device's subscription.
    pub async fn save_push_subscription(
        &self,
        user: UserId,
        session_id: i64,
        endpoint: &str,
        p256dh: &[u8],
        auth: &[u8],
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO push_subscriptions (user_id, session_id, endpoint, p256dh, auth, created_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, session_id = excluded.session_id,
               p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at, failures = 0",
        )
        .bind(user.0)
        .bind(session_id)
        .bind(endpoint)
        .bind(p256dh)
        .bind(auth)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forget a subscription of this user's; true when there was one.
    pub async fn delete_push_subscription(&self, user: UserId, endpoint: &str) -> Result<bool, AppError> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?")
            .bind(user.0)
            .bind(endpoint)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The subscriptions made by sessions that are still live (a logged-out or revoked device,
    /// and a deactivated account, receive nothing) of the users in `users`, of the members of
    /// `channel`, or of both filters at once.
    pub async fn push_subscriptions(
        &self,
        users: Option<&[UserId]>,
        channel: Option<&ChannelId>,
    ) -> Result<Vec<Subscription>, AppError> {
        if users.is_some_and(|u| u.is_empty()) {
            return Ok(Vec::new());
        }
        let ids = users.map(|u| serde_json::to_string(&u.iter().map(|u| u.0).collect::<Vec<_>>()).expect("ints"));
        let rows = sqlx::query(
            "SELECT p.id, p.user_id, p.endpoint, p.p256dh, p.auth FROM push_subscriptions p
             JOIN sessions s ON s.id = p.session_id JOIN users u ON u.id = p.user_id
             WHERE s.revoked_at IS NULL AND s.expires_at > ? AND u.status = 'active'
               AND (? IS NULL OR p.user_id IN (SELECT value FROM json_each(?)))
               AND (? IS NULL OR p.user_id IN (SELECT user_id FROM channel_members WHERE channel_id = ?))",
        )
        .bind(now_ms())
        .bind(ids.as_deref())
        .bind(ids.as_deref())
        .bind(channel.map(|c| c.as_str()))
        .bind(channel.map(|c| c.as_str()))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Subscription {
                id: r.get("id"),
                user: UserId(r.get("user_id")),
                endpoint: r.get("endpoint"),
                p256dh: r.get("p256dh"),
                auth: r.get("auth"),
            })
            .collect())
    }

    /// A conversation's name and kind, for a notification's title.
    pub async fn channel_name_kind(&self, channel: &ChannelId) -> Result<Option<(String, ConversationKind)>, AppError> {
        let row = sqlx::query("SELECT name, kind FROM channels WHERE id = ?")
            .bind(channel.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get("name"), ConversationKind::parse(&r.get::<String, _>("kind")))))
    }

    /// Keep only a user's `max` newest subscriptions.
    pub async fn trim_push_subscriptions(&self, user: UserId, max: i64) -> Result<(), AppError> {
        sqlx::query(
            "DELETE FROM push_subscriptions WHERE user_id = ? AND id NOT IN
               (SELECT id FROM push_subscriptions WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)",
        )
        .bind(user.0)
        .bind(user.0)
        .bind(max)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether anyone has a push subscription at all (the relay skips the work otherwise).
    pub async fn any_push_subscription(&self) -> Result<bool, AppError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT EXISTS (SELECT 1 FROM push_subscriptions)")
            .fetch_one(&self.pool)
            .await?
            != 0)
    }

    /// A delivery's outcome: `gone` (the push service says the subscription no longer exists)
    /// deletes it; failures count up and drop it after [`MAX_FAILURES`]; success resets the count.
    pub async fn push_delivered(&self, id: i64, ok: bool, gone: bool) -> Result<(), AppError> {
        if gone {
            sqlx::query("DELETE FROM push_subscriptions WHERE id = ?").bind(id).execute(&self.pool).await?;
        } else if ok {
            sqlx::query("UPDATE push_subscriptions SET failures = 0 WHERE id = ?").bind(id).execute(&self.pool).await?;
        } else {
            sqlx::query("UPDATE push_subscriptions SET failures = failures + 1 WHERE id = ?")
                .bind(id)
                .execute(&self.pool)
                .await?;
            sqlx::query("DELETE FROM push_subscriptions WHERE id = ? AND failures >= ?")
                .bind(id)
                .bind(MAX_FAILURES)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Make the stored reminders of one board equal `reminders`. A reminder whose time or
    /// assignees changed fires again; one that did not keeps its "sent" mark.
    pub async fn sync_task_reminders(
        &self,
        doc: DocumentId,
        project: &ProjectId,
        reminders: &[Reminder],
    ) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        // task id → (title, remind_at, assignees as stored)
        let existing: std::collections::HashMap<String, (String, i64, String)> =
            sqlx::query("SELECT task_id, title, remind_at, assignees FROM task_reminders WHERE document_id = ?")
                .bind(doc.to_string())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| (r.get("task_id"), (r.get("title"), r.get("remind_at"), r.get("assignees"))))
                .collect();
        let keep: std::collections::HashSet<&str> = reminders.iter().map(|r| r.task_id.as_str()).collect();
        for task in existing.keys().filter(|t| !keep.contains(t.as_str())) {
            sqlx::query("DELETE FROM task_reminders WHERE document_id = ? AND task_id = ?")
                .bind(doc.to_string())
                .bind(task)
                .execute(&mut *tx)
                .await?;
        }
        for rem in reminders {
            let assignees =
                serde_json::to_string(&rem.assignees.iter().map(|u| u.0).collect::<Vec<_>>()).expect("ints");
            let before = existing.get(&rem.task_id);
            if before == Some(&(rem.title.clone(), rem.remind_at, assignees.clone())) {
                continue;
            }
            // A new time or new assignees fire again; a new title alone keeps the "sent" mark.
            let moved = before.is_none_or(|(_, at, who)| *at != rem.remind_at || *who != assignees);
            sqlx::query(
                "INSERT INTO task_reminders (document_id, task_id, project_id, title, remind_at, assignees, sent_at)
                 VALUES (?, ?, ?, ?, ?, ?, NULL)
                 ON CONFLICT (document_id, task_id) DO UPDATE SET title = excluded.title, remind_at = excluded.remind_at,
                   assignees = excluded.assignees, sent_at = CASE WHEN ? THEN NULL ELSE task_reminders.sent_at END",
            )
            .bind(doc.to_string())
            .bind(&rem.task_id)
            .bind(project.as_str())
            .bind(&rem.title)
            .bind(rem.remind_at)
            .bind(&assignees)
            .bind(moved)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Reminders due by `now` and not sent, no older than `max_age_ms` (a relay that was down
    /// for a week does not wake everyone with last week's reminders).
    pub async fn due_reminders(&self, now: i64, max_age_ms: i64) -> Result<Vec<DueReminder>, AppError> {
        let rows = sqlx::query(
            "SELECT document_id, task_id, project_id, title, remind_at, assignees FROM task_reminders
             WHERE sent_at IS NULL AND remind_at <= ? AND remind_at > ? ORDER BY remind_at LIMIT 500",
        )
        .bind(now)
        .bind(now - max_age_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let doc: String = r.get("document_id");
                let assignees: Vec<i64> = serde_json::from_str(&r.get::<String, _>("assignees")).unwrap_or_default();
                Ok(DueReminder {
                    document: doc.parse().map_err(|e| AppError::Internal(format!("stored document id {doc}: {e}")))?,
                    project: ProjectId(r.get("project_id")),
                    reminder: Reminder {
                        task_id: r.get("task_id"),
                        title: r.get("title"),
                        remind_at: r.get("remind_at"),
                        assignees: assignees.into_iter().map(UserId).collect(),
                    },
                })
            })
            .collect()
    }

    pub async fn reminder_sent(&self, doc: DocumentId, task_id: &str, remind_at: i64) -> Result<(), AppError> {
        sqlx::query("UPDATE task_reminders SET sent_at = ? WHERE document_id = ? AND task_id = ? AND remind_at = ?")
            .bind(now_ms())
            .bind(doc.to_string())
            .bind(task_id)
            .bind(remind_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
