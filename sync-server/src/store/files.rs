//! Uploads and stored files: their rows (the bytes are on disk, see [`super::blobs`]).

use super::{Store, Tx};
use crate::error::AppError;
use qiao_model::api::{FileInfo, FileScope, UploadState};
use qiao_model::ids::UserId;
use sqlx::Row;

/// The setting holding [`qiao_model::api::FileSettings::max_upload_bytes`].
pub const MAX_UPLOAD_BYTES: &str = "files.max_upload_bytes";

/// An upload as stored.
#[derive(Clone, Debug)]
pub struct UploadRow {
    pub id: String,
    pub owner: UserId,
    pub scope: FileScope,
    /// Already cleaned ([`qiao_model::files::clean_name`]).
    pub name: String,
    pub size: u64,
    pub mime: String,
    pub sha256: String,
    pub received: u64,
    pub file_id: Option<String>,
}

impl UploadRow {
    /// What the owner is told, with the stored file once there is one.
    pub fn state(&self, file: Option<FileInfo>) -> UploadState {
        UploadState { id: self.id.clone(), received: self.received, size: self.size, file }
    }
}

// SQLite integers are i64; sizes never come near the top (the size limit is far below).
fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A row's scope, from its `scope_kind` and `scope_id` (only the relay writes them; an unknown kind
/// is a row of a newer build, refused rather than guessed at).
fn scope_of(r: &sqlx::sqlite::SqliteRow) -> Result<FileScope, AppError> {
    let kind: String = r.get("scope_kind");
    FileScope::from_parts(&kind, r.get("scope_id"))
        .ok_or_else(|| AppError::Internal(format!("a file row has the unknown scope kind {kind:?}")))
}

fn upload_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<UploadRow, AppError> {
    Ok(UploadRow {
        id: r.get("id"),
        owner: UserId(r.get("owner")),
        scope: scope_of(r)?,
        name: r.get("name"),
        size: to_u64(r.get("size")),
        mime: r.get("mime"),
        sha256: r.get("sha256"),
        received: to_u64(r.get("received")),
        file_id: r.get("file_id"),
    })
}

pub(crate) fn file_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<FileInfo, AppError> {
    Ok(FileInfo {
        id: r.get("id"),
        name: r.get("name"),
        size: to_u64(r.get("size")),
        mime: r.get("mime"),
        sha256: r.get("sha256"),
        scope: scope_of(r)?,
        owner: UserId(r.get("owner")),
        created_at: r.get("created_at"),
    })
}

impl Store {
    pub async fn upload(&self, id: &str) -> Result<Option<UploadRow>, AppError> {
        let row = sqlx::query("SELECT * FROM uploads WHERE id = ?").bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(upload_from_row).transpose()
    }

    /// Move an upload from `from` to `to` received bytes; `false` when it no longer stood at
    /// `from` (nothing changed).
    pub async fn set_received(&self, id: &str, from: u64, to: u64) -> Result<bool, AppError> {
        let r = sqlx::query(
            "UPDATE uploads SET received = ?, touched_at = ? WHERE id = ? AND received = ? AND file_id IS NULL",
        )
        .bind(to_i64(to))
        .bind(super::now_ms())
        .bind(id)
        .bind(to_i64(from))
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Unfinished uploads that received nothing since `before` (unix ms), oldest first.
    pub async fn abandoned_uploads(&self, before: i64, limit: i64) -> Result<Vec<String>, AppError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM uploads WHERE file_id IS NULL AND COALESCE(touched_at, created_at) < ?
             ORDER BY COALESCE(touched_at, created_at) LIMIT ?",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Forget unfinished upload `id` if it still received nothing since `before`; true when it
    /// was deleted.
    pub async fn delete_abandoned_upload(&self, id: &str, before: i64) -> Result<bool, AppError> {
        let r = sqlx::query(
            "DELETE FROM uploads WHERE id = ? AND file_id IS NULL AND COALESCE(touched_at, created_at) < ?",
        )
        .bind(id)
        .bind(before)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn file(&self, id: &str) -> Result<Option<FileInfo>, AppError> {
        let row = sqlx::query("SELECT * FROM files WHERE id = ?").bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(file_from_row).transpose()
    }

    /// Every stored file with these bytes (in any conversation).
    pub async fn files_with_sha256(&self, sha256: &str) -> Result<Vec<FileInfo>, AppError> {
        let rows = sqlx::query("SELECT * FROM files WHERE sha256 = ? ORDER BY created_at")
            .bind(sha256)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(file_from_row).collect()
    }
}

pub async fn insert_upload_tx(tx: &mut Tx, u: &UploadRow, created_at: i64) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO uploads (id, owner, scope_kind, scope_id, name, size, mime, sha256, received, created_at, file_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&u.id)
    .bind(u.owner.0)
    .bind(u.scope.parts().0)
    .bind(u.scope.parts().1)
    .bind(&u.name)
    .bind(to_i64(u.size))
    .bind(&u.mime)
    .bind(&u.sha256)
    .bind(to_i64(u.received))
    .bind(created_at)
    .bind(&u.file_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_file_tx(tx: &mut Tx, f: &FileInfo) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO files (id, sha256, size, name, mime, owner, scope_kind, scope_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&f.id)
    .bind(&f.sha256)
    .bind(to_i64(f.size))
    .bind(&f.name)
    .bind(&f.mime)
    .bind(f.owner.0)
    .bind(f.scope.parts().0)
    .bind(f.scope.parts().1)
    .bind(f.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Mark upload `id` as having become `file_id`.
pub async fn finish_upload_tx(tx: &mut Tx, id: &str, file_id: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE uploads SET file_id = ? WHERE id = ?").bind(file_id).bind(id).execute(&mut **tx).await?;
    Ok(())
}

pub async fn delete_upload_tx(tx: &mut Tx, id: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM uploads WHERE id = ? AND file_id IS NULL").bind(id).execute(&mut **tx).await?;
    Ok(())
}
