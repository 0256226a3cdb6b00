//! Departments and the HR side of accounts (组织架构).
//!
//! Read paths are [`Store`] methods; the write paths an HR import or a deactivation runs are free
//! functions over a [`Tx`], so they commit together with their audit rows.

use super::{Store, Tx, UserRow, now_ms, user_from_row};
use crate::error::AppError;
use qiao_model::acl::Role;
use qiao_model::api::{Department, DirectoryUser, ImportRecord, UserStatus};
use qiao_model::ids::{DeptId, UserId};
use qiao_model::schema::directory;
use rand::RngCore;
use sqlx::Row;

/// Separator of department paths ("Sales/East").
pub const PATH_SEP: char = '/';

fn department_from_row(r: &sqlx::sqlite::SqliteRow) -> Department {
    Department {
        id: DeptId(r.get("id")),
        name: r.get("name"),
        parent: r.get::<Option<String>, _>("parent_id").map(DeptId),
        path: r.get("path"),
    }
}

fn directory_user_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<DirectoryUser, AppError> {
    let role: String = r.get("role");
    let status: String = r.get("status");
    Ok(DirectoryUser {
        id: UserId(r.get("id")),
        username: r.get("username"),
        employee_id: r.get("employee_id"),
        name: r.get("display_name"),
        department: r.get::<Option<String>, _>("dept_id").map(DeptId),
        position: r.get("position"),
        manager: r.get::<Option<i64>, _>("manager_id").map(UserId),
        role: Role::parse(&role).ok_or_else(|| AppError::Internal(format!("bad role {role}")))?,
        status: UserStatus::parse(&status).ok_or_else(|| AppError::Internal(format!("bad status {status}")))?,
    })
}

/// An HR-managed account (one with an employee id) as an import compares it.
#[derive(Clone, Debug)]
pub struct HrPerson {
    pub id: UserId,
    pub username: String,
    pub record: ImportRecord,
}

impl Store {
    /// Every department and every account, as anyone may see them.
    pub async fn directory(&self) -> Result<(Vec<Department>, Vec<DirectoryUser>), AppError> {
        let depts = sqlx::query("SELECT id, name, parent_id, path FROM departments ORDER BY path")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(department_from_row)
            .collect();
        let users = sqlx::query(
            "SELECT id, username, employee_id, display_name, dept_id, position, manager_id, role, status
             FROM users ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(directory_user_from_row)
        .collect::<Result<_, _>>()?;
        Ok((depts, users))
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRow>, AppError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?").bind(id.0).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The directory document exists from the first start on (its content comes with the
    /// first publish).
    pub(super) async fn register_directory_document(&self) -> Result<(), AppError> {
        sqlx::query("INSERT OR IGNORE INTO documents (id, kind) VALUES (?, 'directory')")
            .bind(directory::document_id().to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

pub async fn user_tx(tx: &mut Tx, id: UserId) -> Result<Option<UserRow>, AppError> {
    let row = sqlx::query("SELECT * FROM users WHERE id = ?").bind(id.0).fetch_optional(&mut **tx).await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn departments_tx(tx: &mut Tx) -> Result<Vec<Department>, AppError> {
    Ok(sqlx::query("SELECT id, name, parent_id, path FROM departments ORDER BY path")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(department_from_row)
        .collect())
}

/// Every account with an employee id, with its department's path and its manager's employee id.
pub async fn hr_people(tx: &mut Tx) -> Result<Vec<HrPerson>, AppError> {
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.employee_id, u.display_name, u.position, u.role, u.status,
                COALESCE(d.path, '') AS dept_path, m.employee_id AS manager_eid
         FROM users u
         LEFT JOIN departments d ON d.id = u.dept_id
         LEFT JOIN users m ON m.id = u.manager_id
         WHERE u.employee_id IS NOT NULL ORDER BY u.employee_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.get("role");
            let status: String = r.get("status");
            Ok(HrPerson {
                id: UserId(r.get("id")),
                username: r.get("username"),
                record: ImportRecord {
                    employee_id: r.get("employee_id"),
                    name: r.get("display_name"),
                    department: r.get("dept_path"),
                    position: r.get("position"),
                    manager_employee_id: r.get("manager_eid"),
                    role: Role::parse(&role).ok_or_else(|| AppError::Internal(format!("bad role {role}")))?,
                    status: UserStatus::parse(&status)
                        .ok_or_else(|| AppError::Internal(format!("bad status {status}")))?,
                },
            })
        })
        .collect()
}

pub async fn username_taken(tx: &mut Tx, username: &str) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE username = ?)")
        .bind(username)
        .fetch_one(&mut **tx)
        .await?)
}

pub fn new_department_id() -> DeptId {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    DeptId(format!("d{}", hex::encode(b)))
}

pub async fn create_department(
    tx: &mut Tx,
    name: &str,
    parent: Option<&DeptId>,
    path: &str,
) -> Result<Department, AppError> {
    let id = new_department_id();
    sqlx::query("INSERT INTO departments (id, name, parent_id, path, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(id.as_str())
        .bind(name)
        .bind(parent.map(DeptId::as_str))
        .bind(path)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(Department { id, name: name.into(), parent: parent.cloned(), path: path.into() })
}

/// The HR fields of a new or changed account.
pub struct HrFields<'a> {
    pub name: &'a str,
    pub dept: Option<&'a DeptId>,
    pub position: &'a str,
    pub role: Role,
    pub status: UserStatus,
}

pub async fn insert_hr_user(
    tx: &mut Tx,
    username: &str,
    employee_id: &str,
    password_hash: &str,
    f: &HrFields<'_>,
) -> Result<UserId, AppError> {
    let r = sqlx::query(
        "INSERT INTO users (username, display_name, password_hash, role, dept_id, status, created_at, employee_id, position)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(username)
    .bind(f.name)
    .bind(password_hash)
    .bind(f.role.as_str())
    .bind(f.dept.map(DeptId::as_str))
    .bind(f.status.as_str())
    .bind(now_ms())
    .bind(employee_id)
    .bind(f.position)
    .execute(&mut **tx)
    .await?;
    Ok(UserId(r.last_insert_rowid()))
}

pub async fn update_hr_user(tx: &mut Tx, id: UserId, f: &HrFields<'_>) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE users SET display_name = ?, dept_id = ?, position = ?, role = ?, status = ?,
           deactivated_at = CASE WHEN ? = 'deactivated' THEN COALESCE(deactivated_at, ?) ELSE NULL END
         WHERE id = ?",
    )
    .bind(f.name)
    .bind(f.dept.map(DeptId::as_str))
    .bind(f.position)
    .bind(f.role.as_str())
    .bind(f.status.as_str())
    .bind(f.status.as_str())
    .bind(now_ms())
    .bind(id.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_manager(tx: &mut Tx, id: UserId, manager: Option<UserId>) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET manager_id = ? WHERE id = ?")
        .bind(manager.map(|m| m.0))
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Mark an account deactivated; whether it was active.
pub async fn deactivate_user(tx: &mut Tx, id: UserId) -> Result<bool, AppError> {
    let r =
        sqlx::query("UPDATE users SET status = 'deactivated', deactivated_at = ? WHERE id = ? AND status = 'active'")
            .bind(now_ms())
            .bind(id.0)
            .execute(&mut **tx)
            .await?;
    Ok(r.rows_affected() == 1)
}
