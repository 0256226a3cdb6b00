//! Knowledge-base spaces and who may edit them. The documents themselves are synced; this is
//! what the relay checks before serving or accepting a byte of them.

use super::{Store, Tx, now_ms};
use crate::error::AppError;
use qiao_model::acl::{self, Actor, Role};
use qiao_model::api::KbSpace;
use qiao_model::ids::{DeptId, UserId};
use qiao_model::schema::kb;
use sqlx::Row;

/// The company-wide space every installation has.
pub const COMPANY_SPACE: &str = "company";

impl Store {
    /// Make sure the company-wide space exists (with its document).
    pub async fn ensure_company_space(&self) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("INSERT OR IGNORE INTO kb_spaces (id, name, dept_id, created_at) VALUES (?, ?, NULL, ?)")
            .bind(COMPANY_SPACE)
            .bind("公司知识库 Company")
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() > 0 {
            register_space_doc(&mut tx, COMPANY_SPACE).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Register the company's announcements document (at start, like the directory's).
    pub async fn register_announcements_document(&self) -> Result<(), AppError> {
        sqlx::query("INSERT OR IGNORE INTO documents (id, kind) VALUES (?, 'announcements')")
            .bind(qiao_model::schema::announcements::document_id().to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The actor (role and department) of an active user; `None` for unknown or deactivated.
    pub async fn actor_of(&self, user: UserId) -> Result<Option<Actor>, AppError> {
        let row = sqlx::query("SELECT role, dept_id, status FROM users WHERE id = ?")
            .bind(user.0)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.and_then(|r| {
            if r.get::<String, _>("status") != "active" {
                return None;
            }
            Some(Actor {
                role: Role::parse(&r.get::<String, _>("role"))?,
                dept: r.get::<Option<String>, _>("dept_id").map(DeptId),
            })
        }))
    }

    pub async fn space_dept(&self, space: &str) -> Result<Option<Option<DeptId>>, AppError> {
        let row =
            sqlx::query("SELECT dept_id FROM kb_spaces WHERE id = ?").bind(space).fetch_optional(self.pool()).await?;
        Ok(row.map(|r| r.get::<Option<String>, _>("dept_id").map(DeptId)))
    }

    /// Whether `user` may edit `space`: the matrix ([`acl::edit_knowledge_base`]) or a grant.
    pub async fn kb_editor(&self, space: &str, user: UserId) -> Result<bool, AppError> {
        let (Some(actor), Some(dept)) = (self.actor_of(user).await?, self.space_dept(space).await?) else {
            return Ok(false);
        };
        if acl::edit_knowledge_base(&actor, dept.as_ref()).is_ok() {
            return Ok(true);
        }
        let granted: Option<i64> = sqlx::query_scalar("SELECT 1 FROM kb_editors WHERE space_id = ? AND user_id = ?")
            .bind(space)
            .bind(user.0)
            .fetch_optional(self.pool())
            .await?;
        Ok(granted.is_some())
    }

    /// Every space, as `user` sees it (everyone reads every space; `editable` says whether they
    /// may edit it).
    pub async fn kb_spaces(&self, user: UserId) -> Result<Vec<KbSpace>, AppError> {
        self.ensure_company_space().await?;
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.dept_id, d.name AS dept_name FROM kb_spaces s
             LEFT JOIN departments d ON d.id = s.dept_id ORDER BY s.dept_id IS NOT NULL, d.path, s.created_at",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.get("id");
            out.push(KbSpace {
                document: kb::space_doc_id(&id),
                editable: self.kb_editor(&id, user).await?,
                name: r.get("name"),
                dept: r.get::<Option<String>, _>("dept_id").map(DeptId),
                dept_name: r.get("dept_name"),
                id,
            });
        }
        Ok(out)
    }

    /// Register the documents of pages a space document names (idempotent).
    pub async fn register_kb_pages(&self, space: &str, pages: &[String]) -> Result<(), AppError> {
        if pages.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for p in pages {
            sqlx::query("INSERT OR IGNORE INTO documents (id, kind, space_id, page_id) VALUES (?, 'kb-page', ?, ?)")
                .bind(kb::page_doc_id(space, p).to_string())
                .bind(space)
                .bind(p)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

pub async fn register_space_doc(tx: &mut Tx, space: &str) -> Result<(), AppError> {
    sqlx::query("INSERT OR IGNORE INTO documents (id, kind, space_id) VALUES (?, 'kb-space', ?)")
        .bind(kb::space_doc_id(space).to_string())
        .bind(space)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn create_space_tx(
    tx: &mut Tx,
    id: &str,
    name: &str,
    dept: Option<&DeptId>,
    by: UserId,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO kb_spaces (id, name, dept_id, created_by, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(id)
        .bind(name)
        .bind(dept.map(|d| d.0.as_str()))
        .bind(by.0)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    register_space_doc(tx, id).await
}

pub async fn grant_tx(tx: &mut Tx, space: &str, user: UserId, by: UserId) -> Result<bool, AppError> {
    let r =
        sqlx::query("INSERT OR IGNORE INTO kb_editors (space_id, user_id, granted_by, granted_at) VALUES (?, ?, ?, ?)")
            .bind(space)
            .bind(user.0)
            .bind(by.0)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
    Ok(r.rows_affected() > 0)
}
