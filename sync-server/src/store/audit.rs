//! The audit log (操作日志审计) as a hash chain.
//!
//! Each row stores `prev_hash` (the previous row's `hash`, or [`GENESIS_HASH`] for the first) and
//! `hash = sha256(prev_hash || canonical row)`, where the canonical row is a JSON array of every
//! stored field in a fixed order ([`canonical`]). Changing any field of a row changes its hash;
//! deleting or reordering rows breaks the next row's `prev_hash`. [`Store::verify_audit`] walks
//! the chain and names the first row that does not check out.
//!
//! A row is appended inside the caller's write transaction ([`audit_tx`]), so an action and its
//! audit row commit or roll back together. The transaction holds SQLite's write lock from its
//! `BEGIN IMMEDIATE` ([`super::Tx`]), so reading the chain's last hash and appending after it is
//! never interleaved with another writer.
//!
//! What a chain cannot show: someone with write access to the database file who recomputes every
//! hash after the one they changed, or who cuts rows off the end. Against both, keep the head hash
//! that [`Store::verify_audit`] reports somewhere else now and then; a later verify must still
//! contain it (see `GET /api/admin/audit/verify?anchor_id=&anchor_hash=`).

use super::{Store, Tx, now_ms};
use crate::error::AppError;
use qiao_model::api::{AuditEntry, AuditVerify};
use qiao_model::audit::{Event, Outcome};
use qiao_model::ids::UserId;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Version tag inside the canonical form, so the form can change without breaking old rows.
const CANONICAL_V1: u32 = 1;

/// One audit row to write: who, from where, what, on what, and the state before and after.
#[derive(Clone, Debug)]
pub struct AuditRecord<'a> {
    pub user: Option<UserId>,
    pub ip: Option<&'a str>,
    pub event: Event,
    pub outcome: Outcome,
    /// What was acted on, e.g. `user:42`, `module:chat`, `POST /api/admin/modules`.
    pub target: String,
    pub detail: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> AuditRecord<'a> {
    pub fn ok(event: Event) -> Self {
        Self::new(event, Outcome::Ok)
    }
    pub fn refused(event: Event) -> Self {
        Self::new(event, Outcome::Refused)
    }
    fn new(event: Event, outcome: Outcome) -> Self {
        Self {
            user: None,
            ip: None,
            event,
            outcome,
            target: String::new(),
            detail: String::new(),
            before: None,
            after: None,
        }
    }
    pub fn by(mut self, user: UserId) -> Self {
        self.user = Some(user);
        self
    }
    /// The client's address; empty (no connect info) is stored as none.
    pub fn ip(mut self, ip: &'a str) -> Self {
        self.ip = Some(ip).filter(|s| !s.is_empty());
        self
    }
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
    pub fn before(mut self, v: impl Serialize) -> Self {
        self.before = serde_json::to_value(v).ok();
        self
    }
    pub fn after(mut self, v: impl Serialize) -> Self {
        self.after = serde_json::to_value(v).ok();
        self
    }
}

/// A row's stored fields, as text exactly as they are (and will be read back) in the table.
pub(crate) struct RowFields<'a> {
    pub user: Option<UserId>,
    pub ip: Option<&'a str>,
    pub action: &'a str,
    pub outcome: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// Append `rec` to the audit log inside `tx`; its id.
pub async fn audit_tx(tx: &mut Tx, rec: &AuditRecord<'_>) -> Result<i64, AppError> {
    let before = rec.before.as_ref().map(|v| v.to_string());
    let after = rec.after.as_ref().map(|v| v.to_string());
    insert(
        tx,
        &RowFields {
            user: rec.user,
            ip: rec.ip,
            action: rec.event.as_str(),
            outcome: rec.outcome.as_str(),
            target: &rec.target,
            detail: &rec.detail,
            before: before.as_deref(),
            after: after.as_deref(),
        },
    )
    .await
}

pub(super) async fn insert(tx: &mut Tx, f: &RowFields<'_>) -> Result<i64, AppError> {
    let mut last =
        sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&mut **tx).await?;
    if last.as_ref().is_some_and(|r| r.get::<String, _>("hash").is_empty()) {
        // Rows from before the chain that the start did not seal (written by an older relay
        // since): seal them first, so the new row follows them.
        seal(tx).await?;
        last = sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&mut **tx).await?;
    }
    let (id, prev) = match last {
        Some(r) => (r.get::<i64, _>("id") + 1, r.get::<String, _>("hash")),
        None => (1, GENESIS_HASH.to_string()),
    };
    let at = now_ms();
    let hash = chain_hash(&prev, &canonical(id, at, f));
    sqlx::query(
        "INSERT INTO audit_log (id, at, user_id, ip, action, outcome, target, detail, before_json, after_json, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(at)
    .bind(f.user.map(|u| u.0))
    .bind(f.ip)
    .bind(f.action)
    .bind(f.outcome)
    .bind(f.target)
    .bind(f.detail)
    .bind(f.before)
    .bind(f.after)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The canonical text of a row: a JSON array of its fields in a fixed order (JSON escaping of
/// strings is deterministic, and no field is free to move).
pub(crate) fn canonical(id: i64, at: i64, f: &RowFields<'_>) -> String {
    serde_json::json!([
        CANONICAL_V1,
        id,
        at,
        f.user.map(|u| u.0),
        f.ip,
        f.action,
        f.outcome,
        f.target,
        f.detail,
        f.before,
        f.after
    ])
    .to_string()
}

pub fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// A stored row, with what the chain needs.
struct Stored {
    id: i64,
    at: i64,
    user: Option<i64>,
    ip: Option<String>,
    action: String,
    outcome: String,
    target: String,
    detail: String,
    before: Option<String>,
    after: Option<String>,
    prev_hash: String,
    hash: String,
}

impl Stored {
    fn from_row(r: &sqlx::sqlite::SqliteRow) -> Self {
        Self {
            id: r.get("id"),
            at: r.get("at"),
            user: r.get("user_id"),
            ip: r.get("ip"),
            action: r.get("action"),
            outcome: r.get("outcome"),
            target: r.get("target"),
            detail: r.get("detail"),
            before: r.get("before_json"),
            after: r.get("after_json"),
            prev_hash: r.get("prev_hash"),
            hash: r.get("hash"),
        }
    }
    fn canonical(&self) -> String {
        canonical(
            self.id,
            self.at,
            &RowFields {
                user: self.user.map(UserId),
                ip: self.ip.as_deref(),
                action: &self.action,
                outcome: &self.outcome,
                target: &self.target,
                detail: &self.detail,
                before: self.before.as_deref(),
                after: self.after.as_deref(),
            },
        )
    }
}

/// Filters of `GET /api/admin/audit` (all optional).
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub user: Option<UserId>,
    /// An event code (`auth.login`), or a domain (`auth`) for all of its events.
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Unix ms, inclusive.
    pub from: Option<i64>,
    /// Unix ms, exclusive.
    pub to: Option<i64>,
    /// Only rows with a smaller id (paging, newest first).
    pub before: Option<i64>,
    /// At most this many rows; `None`: all.
    pub limit: Option<i64>,
}

const PAGE: i64 = 1000;

impl Store {
    /// Rows matching `f`, newest first, with the acting user's username.
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
        let (exact, prefix) = match f.action.as_deref() {
            Some(a) if a.contains('.') => (Some(a.to_string()), None),
            Some(a) => (None, Some(format!("{a}."))),
            None => (None, None),
        };
        let rows = sqlx::query(
            "SELECT a.*, u.username FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
             WHERE (?1 IS NULL OR a.user_id = ?1)
               AND (?2 IS NULL OR a.action = ?2)
               AND (?3 IS NULL OR substr(a.action, 1, length(?3)) = ?3)
               AND (?4 IS NULL OR a.outcome = ?4)
               AND (?5 IS NULL OR a.at >= ?5)
               AND (?6 IS NULL OR a.at < ?6)
               AND (?7 IS NULL OR a.id < ?7)
             ORDER BY a.id DESC LIMIT ?8",
        )
        .bind(f.user.map(|u| u.0))
        .bind(exact)
        .bind(prefix)
        .bind(f.outcome.map(Outcome::as_str))
        .bind(f.from)
        .bind(f.to)
        .bind(f.before)
        .bind(f.limit.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let s = Stored::from_row(r);
                Ok(AuditEntry {
                    outcome: Outcome::parse(&s.outcome)
                        .ok_or_else(|| AppError::Internal(format!("audit row {} has outcome {}", s.id, s.outcome)))?,
                    id: s.id,
                    at: s.at,
                    user: s.user.map(UserId),
                    username: r.get("username"),
                    ip: s.ip,
                    action: s.action,
                    target: s.target,
                    detail: s.detail,
                    before: s.before,
                    after: s.after,
                    prev_hash: s.prev_hash,
                    hash: s.hash,
                })
            })
            .collect()
    }

    /// Walk the whole chain. `anchor`: a (row id, hash) reported by an earlier verify, which must
    /// still be in the chain (detects a cut-off tail).
    pub async fn verify_audit(&self, anchor: Option<(i64, &str)>) -> Result<AuditVerify, AppError> {
        let mut prev = GENESIS_HASH.to_string();
        let mut rows = 0u64;
        let mut head_id = None;
        let mut anchor_seen = false;
        let bad = |rows, head_id, prev: String, id, problem: String| AuditVerify {
            ok: false,
            rows,
            head_id,
            head_hash: prev,
            first_bad: Some(id),
            problem: Some(problem),
        };
        loop {
            let page = sqlx::query("SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?")
                .bind(head_id.unwrap_or(0))
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
            if page.is_empty() {
                break;
            }
            for r in &page {
                let s = Stored::from_row(r);
                if s.prev_hash != prev {
                    let why = format!("row {} does not follow the row before it: a row was removed or changed", s.id);
                    return Ok(bad(rows, head_id, prev, s.id, why));
                }
                if chain_hash(&s.prev_hash, &s.canonical()) != s.hash {
                    let why = format!("row {} does not match its hash: it was modified", s.id);
                    return Ok(bad(rows, head_id, prev, s.id, why));
                }
                if let Some((aid, ahash)) = anchor
                    && aid == s.id
                {
                    if ahash != s.hash {
                        let why = format!("row {} is not the row that was anchored", s.id);
                        return Ok(bad(rows, head_id, prev, s.id, why));
                    }
                    anchor_seen = true;
                }
                prev = s.hash;
                rows += 1;
                head_id = Some(s.id);
            }
        }
        if let Some((aid, _)) = anchor
            && !anchor_seen
        {
            let why = format!("the anchored row {aid} is missing: the log was cut");
            return Ok(bad(rows, head_id, prev, aid, why));
        }
        Ok(AuditVerify { ok: true, rows, head_id, head_hash: prev, first_bad: None, problem: None })
    }

    /// Chain the rows written before the chain existed (migration 0002): those at the end of the
    /// log without a hash. A hash-less row *before* a chained one is left alone, so that verify
    /// reports it.
    pub(super) async fn seal_audit_chain(&self) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        seal(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn seal(tx: &mut Tx) -> Result<(), AppError> {
    let last = sqlx::query("SELECT id, hash FROM audit_log WHERE hash != '' ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (after, mut prev) = match last {
        Some(r) => (r.get::<i64, _>("id"), r.get::<String, _>("hash")),
        None => (0, GENESIS_HASH.to_string()),
    };
    let rows = sqlx::query("SELECT * FROM audit_log WHERE hash = '' AND id > ? ORDER BY id")
        .bind(after)
        .fetch_all(&mut **tx)
        .await?;
    for r in &rows {
        let s = Stored::from_row(r);
        let hash = chain_hash(&prev, &s.canonical());
        sqlx::query("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?")
            .bind(&prev)
            .bind(&hash)
            .bind(s.id)
            .execute(&mut **tx)
            .await?;
        prev = hash;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_stable_and_separates_fields() {
        let f = |target: &'static str, detail: &'static str| RowFields {
            user: Some(UserId(7)),
            ip: Some("10.0.0.1"),
            action: "user.deactivate",
            outcome: "ok",
            target,
            detail,
            before: Some(r#"{"status":"active"}"#),
            after: None,
        };
        let a = canonical(3, 1_700_000_000_000, &f("user:9", "x"));
        assert_eq!(
            a,
            r#"[1,3,1700000000000,7,"10.0.0.1","user.deactivate","ok","user:9","x","{\"status\":\"active\"}",null]"#
        );
        // Moving text from one field to the next gives a different row.
        assert_ne!(canonical(3, 1, &f("ab", "c")), canonical(3, 1, &f("a", "bc")));
        assert_ne!(chain_hash(GENESIS_HASH, &a), chain_hash(&"1".repeat(64), &a));
    }
}
