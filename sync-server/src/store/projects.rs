//! Projects and their members. A project's board is one document (`project-board`); membership
//! here is what the relay checks before serving or accepting a byte of it.

use super::{Store, Tx, now_ms};
use crate::error::AppError;
use qiao_model::api::{Member, ProjectSummary, ProjectVisibility};
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks;
use sqlx::Row;

const SUMMARY_SELECT: &str = "SELECT p.id, p.name, p.description, p.visibility, p.owner,
       (SELECT COUNT(*) FROM project_members m WHERE m.project_id = p.id) AS members,
       EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?) AS member
     FROM projects p";

fn summary_from_row(r: &sqlx::sqlite::SqliteRow) -> ProjectSummary {
    let id = ProjectId(r.get("id"));
    ProjectSummary {
        document: tasks::board_id(&id),
        id,
        name: r.get("name"),
        description: r.get("description"),
        visibility: ProjectVisibility::parse(&r.get::<String, _>("visibility")),
        owner: UserId(r.get("owner")),
        members: r.get::<i64, _>("members") as u32,
        member: r.get("member"),
    }
}

/// What the access rules need to know about a project.
#[derive(Clone, Debug)]
pub struct ProjectFacts {
    pub visibility: ProjectVisibility,
    pub owner: UserId,
    pub archived: bool,
}

impl Store {
    /// Projects `user` may read: theirs, and every company-visible one.
    pub async fn projects_for(&self, user: UserId) -> Result<Vec<ProjectSummary>, AppError> {
        let rows = sqlx::query(&format!(
            "{SUMMARY_SELECT} WHERE p.archived = 0 AND (p.visibility = 'company'
               OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?))
             ORDER BY p.created_at"
        ))
        .bind(user.0)
        .bind(user.0)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(summary_from_row).collect())
    }

    pub async fn project_summary(&self, id: &ProjectId, user: UserId) -> Result<Option<ProjectSummary>, AppError> {
        let row = sqlx::query(&format!("{SUMMARY_SELECT} WHERE p.id = ?"))
            .bind(user.0)
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(summary_from_row))
    }

    pub async fn project_facts(&self, id: &ProjectId) -> Result<Option<ProjectFacts>, AppError> {
        let row = sqlx::query("SELECT visibility, owner, archived FROM projects WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| ProjectFacts {
            visibility: ProjectVisibility::parse(&r.get::<String, _>("visibility")),
            owner: UserId(r.get("owner")),
            archived: r.get("archived"),
        }))
    }

    /// `Some("owner" | "member")` when `user` belongs to `project`.
    pub async fn project_role(&self, id: &ProjectId, user: UserId) -> Result<Option<String>, AppError> {
        Ok(sqlx::query_scalar("SELECT role FROM project_members WHERE project_id = ? AND user_id = ?")
            .bind(id.as_str())
            .bind(user.0)
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn project_members(&self, id: &ProjectId) -> Result<Vec<Member>, AppError> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, u.display_name, m.role FROM project_members m JOIN users u ON u.id = m.user_id
             WHERE m.project_id = ? ORDER BY m.role DESC, u.display_name",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(super::channels::member_from_row).collect())
    }
}

/// Create a project owned by `owner` with `members`, and register its board document.
pub async fn create_project_tx(
    tx: &mut Tx,
    id: &ProjectId,
    name: &str,
    description: &str,
    visibility: ProjectVisibility,
    owner: UserId,
    members: &[UserId],
) -> Result<(), AppError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO projects (id, name, description, visibility, owner, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(description)
    .bind(visibility.as_str())
    .bind(owner.0)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO project_members (project_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)")
        .bind(id.as_str())
        .bind(owner.0)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    for m in members.iter().filter(|m| **m != owner) {
        add_member_tx(tx, id, *m).await?;
    }
    sqlx::query("INSERT INTO documents (id, kind, project_id) VALUES (?, 'project-board', ?)")
        .bind(tasks::board_id(id).to_string())
        .bind(id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn add_member_tx(tx: &mut Tx, id: &ProjectId, user: UserId) -> Result<bool, AppError> {
    let r = sqlx::query(
        "INSERT OR IGNORE INTO project_members (project_id, user_id, role, joined_at) VALUES (?, ?, 'member', ?)",
    )
    .bind(id.as_str())
    .bind(user.0)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Remove `user`; the owner stays (a project always has one).
pub async fn remove_member_tx(tx: &mut Tx, id: &ProjectId, user: UserId) -> Result<bool, AppError> {
    let r = sqlx::query("DELETE FROM project_members WHERE project_id = ? AND user_id = ? AND role <> 'owner'")
        .bind(id.as_str())
        .bind(user.0)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}
