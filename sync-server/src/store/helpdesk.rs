//! Helpdesk tickets and agents (see [`qiao_model::schema::helpdesk`] and [`crate::actions::helpdesk`]).
//!
//! A ticket's row is written at creation with its document's registration, and rewritten from
//! the document after every stored change ([`Store::sync_ticket`]), in the same way the task
//! reminders follow their boards. The times are the relay's own clock at the moment it first
//! stored a change that showed them: an agent's first answer, the resolution, the closing. A
//! reopened ticket forgets its resolution and closing, so its resolution time is measured to the
//! resolution that held.

use super::{Store, Tx};
use crate::error::AppError;
use qiao_model::ids::{DeptId, DocumentId, UserId};
use qiao_model::schema::helpdesk::{Agent, Status, Summary, TicketSummary, Times};
use sqlx::Row;

const SELECT: &str = "SELECT t.id, t.doc_id, t.requester, COALESCE(u.display_name, '') AS requester_name, t.title,
       t.category, t.status, t.assignee, t.rating, t.client_key, t.created_at, t.first_response_at,
       t.resolved_at, t.closed_at, t.updated_at
     FROM helpdesk_tickets t LEFT JOIN users u ON u.id = t.requester";

fn from_row(r: &sqlx::sqlite::SqliteRow) -> TicketSummary {
    TicketSummary {
        id: r.get("id"),
        document: r.get::<String, _>("doc_id").parse().unwrap_or_else(|_| DocumentId::derived(&["invalid"])),
        requester: UserId(r.get("requester")),
        requester_name: r.get("requester_name"),
        title: r.get("title"),
        category: r.get("category"),
        status: Status::parse(&r.get::<String, _>("status")).unwrap_or_default(),
        assignee: r.get::<Option<i64>, _>("assignee").map(UserId),
        rating: r.get::<Option<i64>, _>("rating").and_then(|x| u8::try_from(x).ok()),
        client_key: r.get("client_key"),
        created_at: r.get("created_at"),
        first_response_at: r.get("first_response_at"),
        resolved_at: r.get("resolved_at"),
        closed_at: r.get("closed_at"),
        updated_at: r.get("updated_at"),
    }
}

/// What a new ticket's row holds.
pub struct NewTicket<'a> {
    pub id: &'a str,
    pub doc: DocumentId,
    pub requester: UserId,
    pub client_key: &'a str,
    pub title: &'a str,
    pub category: &'a str,
    pub now: i64,
}

/// Register ticket `t`: its document (kind `ticket`, owned by the requester) and its row. The
/// two reference each other, so the document goes first and is pointed at its ticket after.
pub async fn create_ticket_tx(tx: &mut Tx, t: &NewTicket<'_>) -> Result<(), AppError> {
    let doc = t.doc.to_string();
    sqlx::query("INSERT INTO documents (id, kind, owner) VALUES (?, 'ticket', ?)")
        .bind(&doc)
        .bind(t.requester.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO helpdesk_tickets (id, doc_id, requester, client_key, title, category, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?)",
    )
    .bind(t.id)
    .bind(&doc)
    .bind(t.requester.0)
    .bind(t.client_key)
    .bind(t.title)
    .bind(t.category)
    .bind(t.now)
    .bind(t.now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE documents SET ticket_id = ? WHERE id = ?").bind(t.id).bind(&doc).execute(&mut **tx).await?;
    Ok(())
}

pub async fn set_agents_tx(tx: &mut Tx, users: &[UserId], now: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM helpdesk_agents").execute(&mut **tx).await?;
    for u in users {
        sqlx::query("INSERT OR IGNORE INTO helpdesk_agents (user_id, added_at) VALUES (?, ?)")
            .bind(u.0)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Whether `user` is a helpdesk agent now: an active super admin, or an active person a super
    /// admin named.
    pub async fn helpdesk_agent(&self, user: UserId) -> Result<bool, AppError> {
        let yes: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND u.status = 'active'
               AND (u.role = 'super_admin' OR EXISTS (SELECT 1 FROM helpdesk_agents a WHERE a.user_id = u.id)))",
        )
        .bind(user.0)
        .fetch_one(self.pool())
        .await?;
        Ok(yes)
    }

    /// Every agent: the active super admins and the active people named.
    pub async fn helpdesk_agents(&self) -> Result<Vec<Agent>, AppError> {
        let rows = sqlx::query(
            "SELECT u.id, u.display_name, u.role = 'super_admin' AS sa FROM users u
             WHERE u.status = 'active'
               AND (u.role = 'super_admin' OR EXISTS (SELECT 1 FROM helpdesk_agents a WHERE a.user_id = u.id))
             ORDER BY u.display_name, u.id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Agent { id: UserId(r.get("id")), display_name: r.get("display_name"), super_admin: r.get("sa") })
            .collect())
    }

    pub async fn ticket_by_key(&self, requester: UserId, key: &str) -> Result<Option<TicketSummary>, AppError> {
        let row = sqlx::query(&format!("{SELECT} WHERE t.requester = ? AND t.client_key = ?"))
            .bind(requester.0)
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(from_row))
    }

    pub async fn ticket(&self, id: &str) -> Result<Option<TicketSummary>, AppError> {
        let row = sqlx::query(&format!("{SELECT} WHERE t.id = ?")).bind(id).fetch_optional(self.pool()).await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Tickets `requester` opened (every ticket with `None`), newest first.
    pub async fn tickets(&self, requester: Option<UserId>) -> Result<Vec<TicketSummary>, AppError> {
        let rows = match requester {
            Some(u) => {
                sqlx::query(&format!("{SELECT} WHERE t.requester = ? ORDER BY t.created_at DESC, t.id"))
                    .bind(u.0)
                    .fetch_all(self.pool())
                    .await?
            }
            None => sqlx::query(&format!("{SELECT} ORDER BY t.created_at DESC, t.id")).fetch_all(self.pool()).await?,
        };
        Ok(rows.iter().map(from_row).collect())
    }

    /// Bring ticket document `doc`'s row in step with what it now says, stamping the times the
    /// relay sees for the first time with `now`.
    pub async fn sync_ticket(&self, doc: DocumentId, s: &Summary, now: i64) -> Result<(), AppError> {
        let solved = s.status.solved();
        let closed = s.status == Status::Closed;
        sqlx::query(
            "UPDATE helpdesk_tickets SET title = ?, category = ?, status = ?, assignee = ?, rating = ?, updated_at = ?,
               first_response_at = CASE WHEN first_response_at IS NULL AND ? THEN ? ELSE first_response_at END,
               resolved_at = CASE WHEN ? THEN COALESCE(resolved_at, ?) ELSE NULL END,
               closed_at = CASE WHEN ? THEN COALESCE(closed_at, ?) ELSE NULL END
             WHERE doc_id = ?",
        )
        .bind(&s.title)
        .bind(&s.category)
        .bind(s.status.as_str())
        .bind(s.assignee.map(|a| a.0))
        .bind(s.rating.map(i64::from))
        .bind(now)
        .bind(s.responded)
        .bind(now)
        .bind(solved)
        .bind(now)
        .bind(closed)
        .bind(now)
        .bind(doc.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every ticket's times, for the figures.
    /// Every ticket's times, or only those opened by people of department `dept`.
    pub async fn ticket_times(&self, dept: Option<&DeptId>) -> Result<Vec<Times>, AppError> {
        let rows = sqlx::query(
            "SELECT t.category, t.status, t.created_at, t.first_response_at, t.resolved_at, t.closed_at, t.rating
             FROM helpdesk_tickets t JOIN users u ON u.id = t.requester
             WHERE ?1 IS NULL OR u.dept_id = ?1",
        )
        .bind(dept.map(|d| d.as_str()))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Times {
                category: r.get("category"),
                status: Status::parse(&r.get::<String, _>("status")).unwrap_or_default(),
                created_at: r.get("created_at"),
                first_response_at: r.get("first_response_at"),
                resolved_at: r.get("resolved_at"),
                closed_at: r.get("closed_at"),
                rating: r.get::<Option<i64>, _>("rating").and_then(|x| u8::try_from(x).ok()),
            })
            .collect())
    }
}
