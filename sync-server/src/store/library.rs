//! The file library's rows: folders, entries (a file's name and place) and their versions, each
//! version a row of `files` (see `migrations/0017_file_library.sql`). Who may see what is decided
//! by [`crate::actions::library`]; these queries only read and write.

use super::files::file_from_row;
use super::{Store, Tx};
use crate::error::AppError;
use qiao_model::ids::{DeptId, ProjectId, UserId};
use qiao_model::library::{Place, Status, Version};
use sqlx::Row;

/// A folder as stored, with the name of its department or project.
#[derive(Clone, Debug)]
pub struct FolderRow {
    pub id: String,
    pub name: String,
    pub place: Place,
    pub place_name: String,
    pub parent: Option<String>,
    pub needs_approval: bool,
    pub created_by: UserId,
    pub created_at: i64,
}

/// An entry with its versions (all of them: the caller filters), newest first.
#[derive(Clone, Debug)]
pub struct EntryRow {
    pub id: String,
    pub folder: String,
    pub name: String,
    pub owner: UserId,
    pub owner_name: String,
    pub created_at: i64,
    pub deleted: bool,
    pub versions: Vec<VersionRow>,
}

#[derive(Clone, Debug)]
pub struct VersionRow {
    pub version: Version,
    /// The department of whoever added it (who may approve it depends on it).
    pub by_dept: Option<DeptId>,
}

const FOLDER_SELECT: &str = "SELECT f.*, COALESCE(d.name, p.name, '') AS place_name
     FROM library_folders f
     LEFT JOIN departments d ON d.id = f.dept_id
     LEFT JOIN projects p ON p.id = f.project_id";

fn folder_from_row(r: &sqlx::sqlite::SqliteRow) -> FolderRow {
    let dept: Option<String> = r.get("dept_id");
    let project: Option<String> = r.get("project_id");
    let place = match (dept, project) {
        (Some(d), _) => Place::Dept(DeptId(d)),
        (None, Some(p)) => Place::Project(ProjectId(p)),
        (None, None) => Place::Company,
    };
    FolderRow {
        id: r.get("id"),
        name: r.get("name"),
        place,
        place_name: r.get("place_name"),
        parent: r.get("parent_id"),
        needs_approval: r.get::<i64, _>("needs_approval") != 0,
        created_by: UserId(r.get("created_by")),
        created_at: r.get("created_at"),
    }
}

const ENTRY_SELECT: &str = "SELECT e.id AS e_id, e.folder_id, e.name AS e_name, e.owner AS e_owner,
            e.created_at AS e_created, e.deleted_at, eo.display_name AS owner_name,
            v.n, v.status, v.reviewed_at, v.note, r.display_name AS reviewer_name,
            vb.display_name AS by_name, vb.dept_id AS by_dept, fl.*
     FROM library_entries e
     JOIN users eo ON eo.id = e.owner
     JOIN library_versions v ON v.entry_id = e.id
     JOIN files fl ON fl.id = v.file_id
     JOIN users vb ON vb.id = fl.owner
     LEFT JOIN users r ON r.id = v.reviewed_by";

/// Rows of [`ENTRY_SELECT`] ordered by entry then version (newest first), grouped.
fn entries_from_rows(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<EntryRow>, AppError> {
    let mut out: Vec<EntryRow> = Vec::new();
    for r in rows {
        let id: String = r.get("e_id");
        if out.last().is_none_or(|e| e.id != id) {
            out.push(EntryRow {
                id,
                folder: r.get("folder_id"),
                name: r.get("e_name"),
                owner: UserId(r.get("e_owner")),
                owner_name: r.get("owner_name"),
                created_at: r.get("e_created"),
                deleted: r.get::<Option<i64>, _>("deleted_at").is_some(),
                versions: Vec::new(),
            });
        }
        let status: String = r.get("status");
        let version = Version {
            n: r.get::<i64, _>("n") as u32,
            file: file_from_row(r)?,
            by_name: r.get("by_name"),
            status: Status::parse(&status)
                .ok_or_else(|| AppError::Internal(format!("a library version has the status {status:?}")))?,
            reviewed_by_name: r.get("reviewer_name"),
            reviewed_at: r.get("reviewed_at"),
            note: r.get("note"),
        };
        let by_dept = r.get::<Option<String>, _>("by_dept").map(DeptId);
        if let Some(e) = out.last_mut() {
            e.versions.push(VersionRow { version, by_dept });
        }
    }
    Ok(out)
}

impl Store {
    /// The active people who may approve something in a folder of `dept` (or of the company,
    /// `None`): super admins, and that department's admins. The rules pick among them.
    pub async fn approver_candidates(&self, dept: Option<&DeptId>) -> Result<Vec<UserId>, AppError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM users WHERE status = 'active'
               AND (role = 'super_admin' OR (role = 'dept_admin' AND ?1 IS NOT NULL AND dept_id = ?1))",
        )
        .bind(dept.map(|d| d.as_str()))
        .fetch_all(self.pool())
        .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Every department's id and name, by path.
    pub async fn department_names(&self) -> Result<Vec<(DeptId, String)>, AppError> {
        let rows = sqlx::query("SELECT id, name FROM departments ORDER BY path").fetch_all(self.pool()).await?;
        Ok(rows.iter().map(|r| (DeptId(r.get("id")), r.get("name"))).collect())
    }

    /// Every folder, top folders and subfolders, by name.
    pub async fn library_folders(&self) -> Result<Vec<FolderRow>, AppError> {
        let rows = sqlx::query(&format!("{FOLDER_SELECT} ORDER BY f.name, f.id")).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(folder_from_row).collect())
    }

    pub async fn library_folder(&self, id: &str) -> Result<Option<FolderRow>, AppError> {
        let row = sqlx::query(&format!("{FOLDER_SELECT} WHERE f.id = ?")).bind(id).fetch_optional(self.pool()).await?;
        Ok(row.as_ref().map(folder_from_row))
    }

    /// The files of folder `id` that are not deleted, by name, each with all its versions.
    pub async fn library_entries(&self, folder: &str) -> Result<Vec<EntryRow>, AppError> {
        let rows = sqlx::query(&format!(
            "{ENTRY_SELECT} WHERE e.folder_id = ? AND e.deleted_at IS NULL ORDER BY e.name, e.id, v.n DESC"
        ))
        .bind(folder)
        .fetch_all(self.pool())
        .await?;
        entries_from_rows(&rows)
    }

    /// Every entry that is not deleted, in every folder (for the counts beside the folders).
    pub async fn library_all_entries(&self) -> Result<Vec<EntryRow>, AppError> {
        let rows =
            sqlx::query(&format!("{ENTRY_SELECT} WHERE e.deleted_at IS NULL ORDER BY e.folder_id, e.id, v.n DESC"))
                .fetch_all(self.pool())
                .await?;
        entries_from_rows(&rows)
    }

    /// Entry `id` (deleted or not) with its versions.
    pub async fn library_entry(&self, id: &str) -> Result<Option<EntryRow>, AppError> {
        let rows = sqlx::query(&format!("{ENTRY_SELECT} WHERE e.id = ? ORDER BY v.n DESC"))
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        Ok(entries_from_rows(&rows)?.into_iter().next())
    }

    /// The files of this name in `folder` that are not deleted, oldest first.
    pub async fn library_entries_named(&self, folder: &str, name: &str) -> Result<Vec<String>, AppError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM library_entries WHERE folder_id = ? AND name = ? AND deleted_at IS NULL ORDER BY created_at, id",
        )
        .bind(folder)
        .bind(name)
        .fetch_all(self.pool())
        .await?)
    }

    /// The entry stored file `file` is a version of, if any.
    pub async fn library_entry_of_file(&self, file: &str) -> Result<Option<EntryRow>, AppError> {
        let entry: Option<String> = sqlx::query_scalar("SELECT entry_id FROM library_versions WHERE file_id = ?")
            .bind(file)
            .fetch_optional(self.pool())
            .await?;
        match entry {
            Some(e) => self.library_entry(&e).await,
            None => Ok(None),
        }
    }
}

pub async fn insert_folder_tx(tx: &mut Tx, f: &FolderRow) -> Result<(), AppError> {
    let (dept, project) = match &f.place {
        Place::Company => (None, None),
        Place::Dept(d) => (Some(d.as_str()), None),
        Place::Project(p) => (None, Some(p.as_str())),
    };
    sqlx::query(
        "INSERT INTO library_folders (id, name, dept_id, project_id, parent_id, needs_approval, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&f.id)
    .bind(&f.name)
    .bind(dept)
    .bind(project)
    .bind(&f.parent)
    .bind(f.needs_approval as i64)
    .bind(f.created_by.0)
    .bind(f.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_folder_tx(tx: &mut Tx, id: &str, name: &str, needs_approval: bool) -> Result<(), AppError> {
    sqlx::query("UPDATE library_folders SET name = ?, needs_approval = ? WHERE id = ?")
        .bind(name)
        .bind(needs_approval as i64)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Delete folder `id` if nothing is in it (no subfolder, no file that is not deleted); `false`
/// otherwise. Files deleted from it earlier go with it (their stored versions stay, for whatever
/// else refers to the same bytes, readable by their uploaders only).
pub async fn delete_empty_folder_tx(tx: &mut Tx, id: &str) -> Result<bool, AppError> {
    let busy: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM library_folders WHERE parent_id = ?1)
              + (SELECT COUNT(*) FROM library_entries WHERE folder_id = ?1 AND deleted_at IS NULL)",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    if busy > 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM library_versions WHERE entry_id IN (SELECT id FROM library_entries WHERE folder_id = ?)")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM library_entries WHERE folder_id = ?").bind(id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM library_folders WHERE id = ?").bind(id).execute(&mut **tx).await?;
    Ok(true)
}

pub async fn insert_entry_tx(
    tx: &mut Tx,
    id: &str,
    folder: &str,
    name: &str,
    owner: UserId,
    at: i64,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO library_entries (id, folder_id, name, owner, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(id)
        .bind(folder)
        .bind(name)
        .bind(owner.0)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Add stored file `file` as the next version of `entry`; its number.
pub async fn insert_version_tx(tx: &mut Tx, entry: &str, file: &str, status: Status) -> Result<u32, AppError> {
    let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(n), 0) + 1 FROM library_versions WHERE entry_id = ?")
        .bind(entry)
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO library_versions (entry_id, n, file_id, status) VALUES (?, ?, ?, ?)")
        .bind(entry)
        .bind(n)
        .bind(file)
        .bind(status.as_str())
        .execute(&mut **tx)
        .await?;
    name_after_current_tx(tx, entry).await?;
    Ok(n as u32)
}

/// Name entry `entry` after its newest approved version: a version waiting for approval (or
/// rejected) is its uploader's and the approvers' only, and must not rename the file everyone
/// else sees. An entry with no approved version keeps the name of its first.
async fn name_after_current_tx(tx: &mut Tx, entry: &str) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE library_entries SET name = COALESCE(
            (SELECT f.name FROM library_versions v JOIN files f ON f.id = v.file_id
             WHERE v.entry_id = ?1 AND v.status = 'approved' ORDER BY v.n DESC LIMIT 1), name)
         WHERE id = ?1",
    )
    .bind(entry)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether stored file `file` is already a version of some entry.
pub async fn file_in_library_tx(tx: &mut Tx, file: &str) -> Result<bool, AppError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM library_versions WHERE file_id = ?")
        .bind(file)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

/// Accept or reject version `n` of `entry` if it is still pending; `false` if it was not.
pub async fn review_tx(
    tx: &mut Tx,
    entry: &str,
    n: u32,
    status: Status,
    by: UserId,
    note: &str,
    at: i64,
) -> Result<bool, AppError> {
    let r = sqlx::query(
        "UPDATE library_versions SET status = ?, reviewed_by = ?, reviewed_at = ?, note = ?
         WHERE entry_id = ? AND n = ? AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(by.0)
    .bind(at)
    .bind(note)
    .bind(entry)
    .bind(n as i64)
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    name_after_current_tx(tx, entry).await?;
    Ok(true)
}

/// Mark entry `id` deleted; `false` if it already was.
pub async fn delete_entry_tx(tx: &mut Tx, id: &str, by: UserId, at: i64) -> Result<bool, AppError> {
    let r =
        sqlx::query("UPDATE library_entries SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at IS NULL")
            .bind(at)
            .bind(by.0)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    Ok(r.rows_affected() == 1)
}
