//! HR import (组织架构导入): a CSV or JSON file from the HR system becomes the directory.
//!
//! 1. **Preview** ([`do_preview`]): the file is parsed and validated whole — a malformed row is
//!    reported with its line number and nothing is kept — then compared with the accounts that
//!    have an employee id: who is new, who changed (name, position, manager, role, status), who
//!    moved (department), who is no longer in the file (to deactivate), which departments are
//!    new. The file is kept under its SHA-256, which is the preview token.
//! 2. **Apply** ([`do_apply`]): the diff is computed again inside one write transaction; if it
//!    is not exactly the one previewed (someone changed the directory meanwhile) nothing happens
//!    (409, preview again). Otherwise departments, accounts, managers and deactivations are
//!    written with one audit row each plus a summary row, and committed together. Then the
//!    deactivated people's sockets are closed and the directory document is republished.
//!
//! The file is the whole company: an HR-managed account (one with an employee id) that is not in
//! it is deactivated. Accounts without an employee id (the first admin, service accounts) are
//! never touched, nor is the admin running the import.
//!
//! New accounts get username = employee id and a random initial password, returned once in the
//! apply response for the admin to hand out (the relay keeps only the argon2 hash). Until
//! password change or OIDC login exists, that is how new people get in.
//!
//! The parsing and the diff are pure functions ([`parse`], [`validate`], [`diff`]), tested below.

use crate::AppState;
use crate::actions::directory;
use crate::auth::{self, AuthUser};
use crate::error::AppError;
use crate::store::directory::{self as dir_store, HrFields, HrPerson, PATH_SEP};
use crate::store::{AuditRecord, Tx, audit_tx, now_ms, sessions};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qiao_model::acl::Role;
use qiao_model::api::{
    ImportApplied, ImportChange, ImportCounts, ImportDeactivate, ImportNew, ImportPreview, ImportProgress,
    ImportRecord, ImportRejected, ImportRow, InitialPassword, UserStatus,
};
use qiao_model::audit::Event;
use qiao_model::ids::{DeptId, UserId};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Most people in one file.
pub const MAX_ROWS: usize = 200_000;
const MAX_ID: usize = 64;
const MAX_TEXT: usize = 100;
const MAX_DEPTH: usize = 10;
/// Previews older than this are dropped.
const PREVIEW_TTL_MS: i64 = 24 * 3600 * 1000;

/// A file refused as a whole, because of the row at `line` (0: the file itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub line: usize,
    pub message: String,
}

fn reject(line: usize, message: impl Into<String>) -> Rejected {
    let message = message.into();
    Rejected { message: if line > 0 { format!("line {line}: {message}") } else { message }, line }
}

/// What an import endpoint answers when it fails.
#[derive(Debug)]
pub enum ImportError {
    Rejected(Rejected),
    App(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::App(e)
    }
}
impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::App(e.into())
    }
}
impl From<Rejected> for ImportError {
    fn from(r: Rejected) -> Self {
        ImportError::Rejected(r)
    }
}

impl IntoResponse for ImportError {
    fn into_response(self) -> Response {
        match self {
            ImportError::App(e) => e.into_response(),
            ImportError::Rejected(r) => (
                StatusCode::BAD_REQUEST,
                Json(ImportRejected { code: "bad_request".into(), message: r.message, line: r.line }),
            )
                .into_response(),
        }
    }
}

// --- parsing ----------------------------------------------------------------------------------

/// One row of the file, with where it is (CSV: the line it starts on, the header being line 1;
/// JSON: the entry's position, from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub line: usize,
    pub row: ImportRow,
}

/// The token of a file: its SHA-256.
pub fn token_of(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Parse a file: a JSON array of [`ImportRow`]s if it starts with `[`, CSV with a header row
/// otherwise. A UTF-8 byte order mark (as Excel writes) is skipped.
pub fn parse(body: &str) -> Result<Vec<Located>, Rejected> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let rows = if body.trim_start().starts_with('[') { parse_json(body)? } else { parse_csv(body)? };
    if rows.is_empty() {
        return Err(reject(0, "the file has no rows: importing it would deactivate everyone"));
    }
    if rows.len() > MAX_ROWS {
        return Err(reject(0, format!("the file has more than {MAX_ROWS} rows")));
    }
    Ok(rows)
}

fn parse_json(body: &str) -> Result<Vec<Located>, Rejected> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(body).map_err(|e| reject(e.line(), format!("not a JSON array of rows: {e}")))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let line = i + 1;
            serde_json::from_value::<ImportRow>(v)
                .map(|row| Located { line, row })
                .map_err(|e| reject(line, format!("entry {line} is not a row: {e}")))
        })
        .collect()
}

/// CSV records (RFC 4180: quoted fields may hold commas, quotes doubled, and line breaks), each
/// with the line it starts on. Blank lines are skipped.
pub fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, Rejected> {
    let mut out = Vec::new();
    let (mut line, mut start) = (1usize, 1usize);
    let mut rec: Vec<String> = Vec::new();
    let mut field = String::new();
    let (mut in_quotes, mut was_quoted) = (false, false);
    let mut chars = text.chars().peekable();
    let mut end_record = |rec: &mut Vec<String>, field: &mut String, start: usize| {
        rec.push(std::mem::take(field));
        let blank = rec.len() == 1 && rec[0].trim().is_empty();
        let rec = std::mem::take(rec);
        if !blank {
            out.push((start, rec));
        }
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !was_quoted => {
                field.clear();
                in_quotes = true;
                was_quoted = true;
            }
            '"' => {
                return Err(reject(
                    line,
                    "a quote inside an unquoted field (quote the whole field and double the quote)",
                ));
            }
            ',' => {
                rec.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                end_record(&mut rec, &mut field, start);
                was_quoted = false;
                line += 1;
                start = line;
            }
            c if was_quoted && !c.is_whitespace() => {
                return Err(reject(line, "text after the closing quote of a field"));
            }
            _ if was_quoted => {}
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err(reject(start, "a quoted field is not closed"));
    }
    if !field.is_empty() || !rec.is_empty() {
        end_record(&mut rec, &mut field, start);
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    EmployeeId,
    Name,
    Department,
    Position,
    Manager,
    Role,
}

/// Header names, English and as Chinese HR exports name them.
fn column(header: &str) -> Option<Column> {
    let h = header.trim().to_lowercase().replace([' ', '-'], "_");
    Some(match h.as_str() {
        "employee_id" | "employeeid" | "emp_id" | "工号" | "员工编号" | "员工工号" => Column::EmployeeId,
        "name" | "姓名" | "名字" => Column::Name,
        "department" | "dept" | "部门" => Column::Department,
        "position" | "title" | "job_title" | "职位" | "岗位" | "职务" => Column::Position,
        "manager_employee_id" | "manager_id" | "manager" | "上级工号" | "直属上级工号" | "直属上级" => {
            Column::Manager
        }
        "role" | "角色" => Column::Role,
        _ => return None,
    })
}

fn parse_csv(body: &str) -> Result<Vec<Located>, Rejected> {
    let mut records = csv_records(body)?.into_iter();
    let Some((hline, header)) = records.next() else { return Ok(Vec::new()) };
    let mut cols: Vec<Option<Column>> = Vec::with_capacity(header.len());
    for h in &header {
        let c = column(h);
        if c.is_some() && cols.contains(&c) {
            return Err(reject(hline, format!("the column {:?} appears twice", h.trim())));
        }
        cols.push(c);
    }
    for (needed, name) in [(Column::EmployeeId, "employee_id"), (Column::Name, "name")] {
        if !cols.contains(&Some(needed)) {
            return Err(reject(hline, format!("the header has no {name} column")));
        }
    }
    records
        .map(|(line, fields)| {
            if fields.len() != cols.len() {
                return Err(reject(line, format!("{} fields, the header has {}", fields.len(), cols.len())));
            }
            let mut row = ImportRow::default();
            for (c, v) in cols.iter().zip(fields) {
                match c {
                    Some(Column::EmployeeId) => row.employee_id = v,
                    Some(Column::Name) => row.name = v,
                    Some(Column::Department) => row.department = Some(v),
                    Some(Column::Position) => row.position = Some(v),
                    Some(Column::Manager) => row.manager_employee_id = Some(v),
                    Some(Column::Role) => row.role = Some(v),
                    None => {}
                }
            }
            Ok(Located { line, row })
        })
        .collect()
}

// --- validation -------------------------------------------------------------------------------

/// A valid row: what the file wants one person to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub line: usize,
    pub employee_id: String,
    pub name: String,
    /// Normalised department path ("Sales/East"), "" for none.
    pub department: String,
    pub position: String,
    pub manager: Option<String>,
    /// `None`: keep (existing people) or employee (new people).
    pub role: Option<Role>,
}

fn text(line: usize, what: &str, v: &str, max: usize) -> Result<String, Rejected> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(reject(line, format!("the {what} is longer than {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(reject(line, format!("the {what} contains control characters")));
    }
    Ok(v.to_string())
}

fn employee_id(line: usize, what: &str, v: &str) -> Result<String, Rejected> {
    let v = v.trim();
    if v.is_empty() {
        return Err(reject(line, format!("the {what} is empty")));
    }
    if v.len() > MAX_ID || !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(reject(
            line,
            format!(
                "the {what} {v:?} must be 1 to {MAX_ID} letters, digits, '.', '_' or '-' (it becomes the username)"
            ),
        ));
    }
    Ok(v.to_string())
}

fn department_path(line: usize, v: &str) -> Result<String, Rejected> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let parts: Vec<String> =
        v.split(PATH_SEP).map(|p| text(line, "department name", p, MAX_TEXT)).collect::<Result<_, _>>()?;
    if parts.iter().any(String::is_empty) {
        return Err(reject(line, format!("the department {v:?} has an empty level")));
    }
    if parts.len() > MAX_DEPTH {
        return Err(reject(line, format!("the department {v:?} is more than {MAX_DEPTH} levels deep")));
    }
    Ok(parts.join(&PATH_SEP.to_string()))
}

fn role(line: usize, v: &str) -> Result<Option<Role>, Rejected> {
    let v = v.trim();
    Ok(Some(match v {
        "" => return Ok(None),
        "超级管理员" => Role::SuperAdmin,
        "部门管理员" => Role::DeptAdmin,
        "员工" | "普通员工" => Role::Employee,
        other => Role::parse(&other.to_lowercase())
            .ok_or_else(|| reject(line, format!("unknown role {other:?}: use super_admin, dept_admin or employee")))?,
    }))
}

/// Check every row; the first problem refuses the whole file.
pub fn validate(rows: &[Located]) -> Result<Vec<Wanted>, Rejected> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for Located { line, row } in rows {
        let line = *line;
        let eid = employee_id(line, "employee id", &row.employee_id)?;
        if let Some(first) = seen.insert(eid.clone(), line) {
            return Err(reject(line, format!("employee id {eid} appears again (first on line {first})")));
        }
        let name = text(line, "name", &row.name, MAX_TEXT)?;
        if name.is_empty() {
            return Err(reject(line, "the name is empty"));
        }
        let manager = match row.manager_employee_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) => Some(employee_id(line, "manager's employee id", m)?),
        };
        if manager.as_deref() == Some(eid.as_str()) {
            return Err(reject(line, "a person cannot be their own manager"));
        }
        out.push(Wanted {
            line,
            employee_id: eid,
            name,
            department: department_path(line, row.department.as_deref().unwrap_or(""))?,
            position: text(line, "position", row.position.as_deref().unwrap_or(""), MAX_TEXT)?,
            manager,
            role: role(line, row.role.as_deref().unwrap_or(""))?,
        });
    }
    // Everyone not in the file is deactivated, so a manager must be in it.
    for w in &out {
        if let Some(m) = &w.manager
            && !seen.contains_key(m)
        {
            return Err(reject(w.line, format!("the manager {m} is not in the file")));
        }
    }
    Ok(out)
}

// --- the diff ---------------------------------------------------------------------------------

/// What the directory holds now, as far as an import is concerned.
pub struct Current {
    pub people: Vec<HrPerson>,
    /// Paths of existing departments.
    pub departments: HashSet<String>,
    /// Every username in use (new people get username = employee id).
    pub usernames: HashSet<String>,
    /// The admin running the import: never deactivated or demoted by it.
    pub acting: UserId,
}

fn changed_fields(before: &ImportRecord, after: &ImportRecord) -> Vec<String> {
    let mut f = Vec::new();
    if before.name != after.name {
        f.push("name");
    }
    if before.department != after.department {
        f.push("department");
    }
    if before.position != after.position {
        f.push("position");
    }
    if before.manager_employee_id != after.manager_employee_id {
        f.push("manager_employee_id");
    }
    if before.role != after.role {
        f.push("role");
    }
    if before.status != after.status {
        f.push("status");
    }
    f.into_iter().map(String::from).collect()
}

/// Compare the file with the directory. The result has an empty token (set by the caller).
pub fn diff(wanted: &[Wanted], current: &Current) -> Result<ImportPreview, Rejected> {
    let by_eid: HashMap<&str, &HrPerson> = current.people.iter().map(|p| (p.record.employee_id.as_str(), p)).collect();
    let (mut new, mut changed, mut moved) = (Vec::new(), Vec::new(), Vec::new());
    let mut unchanged = 0;
    let mut departments_new = BTreeSet::new();
    for w in wanted {
        // Every level of the path: "A/B/C" needs "A", "A/B" and "A/B/C".
        let mut prefix = String::new();
        for part in w.department.split(PATH_SEP).filter(|p| !p.is_empty()) {
            if !prefix.is_empty() {
                prefix.push(PATH_SEP);
            }
            prefix.push_str(part);
            if !current.departments.contains(&prefix) {
                departments_new.insert(prefix.clone());
            }
        }
        match by_eid.get(w.employee_id.as_str()) {
            None => {
                if current.usernames.contains(&w.employee_id) {
                    return Err(reject(
                        w.line,
                        format!("the username {} is taken by an account without this employee id", w.employee_id),
                    ));
                }
                new.push(ImportNew {
                    line: w.line,
                    record: ImportRecord {
                        employee_id: w.employee_id.clone(),
                        name: w.name.clone(),
                        department: w.department.clone(),
                        position: w.position.clone(),
                        manager_employee_id: w.manager.clone(),
                        role: w.role.unwrap_or(Role::Employee),
                        status: UserStatus::Active,
                    },
                });
            }
            Some(p) => {
                let after = ImportRecord {
                    employee_id: w.employee_id.clone(),
                    name: w.name.clone(),
                    department: w.department.clone(),
                    position: w.position.clone(),
                    manager_employee_id: w.manager.clone(),
                    role: w.role.unwrap_or(p.record.role),
                    status: UserStatus::Active,
                };
                if p.id == current.acting && p.record.role == Role::SuperAdmin && after.role != Role::SuperAdmin {
                    return Err(reject(w.line, "the import would take away your own super admin role"));
                }
                let fields = changed_fields(&p.record, &after);
                if fields.is_empty() {
                    unchanged += 1;
                    continue;
                }
                let change = ImportChange { line: w.line, user: p.id, before: p.record.clone(), after, fields };
                let other_fields = change.fields.iter().any(|f| f != "department");
                if change.fields.iter().any(|f| f == "department") {
                    moved.push(change.clone());
                }
                if other_fields {
                    changed.push(change);
                }
            }
        }
    }
    let in_file: HashSet<&str> = wanted.iter().map(|w| w.employee_id.as_str()).collect();
    let deactivate: Vec<ImportDeactivate> = current
        .people
        .iter()
        .filter(|p| p.record.status == UserStatus::Active && p.id != current.acting)
        .filter(|p| !in_file.contains(p.record.employee_id.as_str()))
        .map(|p| ImportDeactivate { user: p.id, record: p.record.clone() })
        .collect();
    let counts = ImportCounts {
        new: new.len(),
        changed: changed.len(),
        moved: moved.len(),
        deactivate: deactivate.len(),
        unchanged,
        departments_new: departments_new.len(),
    };
    Ok(ImportPreview {
        token: String::new(),
        counts,
        new,
        changed,
        moved,
        deactivate,
        departments_new: departments_new.into_iter().collect(),
    })
}

/// The fingerprint of a diff, to check that apply does what the preview showed.
fn diff_hash(p: &ImportPreview) -> String {
    let mut p = p.clone();
    p.token.clear();
    hex::encode(Sha256::digest(serde_json::to_vec(&p).unwrap_or_default()))
}

// --- preview and apply ------------------------------------------------------------------------

async fn current(tx: &mut Tx, acting: UserId) -> Result<Current, AppError> {
    let people = dir_store::hr_people(tx).await?;
    let departments = dir_store::departments_tx(tx).await?.into_iter().map(|d| d.path).collect();
    let usernames = sqlx::query("SELECT username FROM users")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.get::<String, _>("username"))
        .collect();
    Ok(Current { people, departments, usernames, acting })
}

/// Refusals of a file are recorded too (who tried to import what, and why not).
async fn audit_rejected(
    state: &AppState,
    who: &AuthUser,
    event: Event,
    token: &str,
    why: &str,
) -> Result<(), AppError> {
    let rec = AuditRecord::refused(event).by(who.id()).ip(&who.ip).target(format!("import:{token}")).detail(why);
    state.store.audit_record(&rec).await
}

fn summary(c: &ImportCounts) -> String {
    format!(
        "new {} changed {} moved {} deactivate {} unchanged {} departments_new {}",
        c.new, c.changed, c.moved, c.deactivate, c.unchanged, c.departments_new
    )
}

/// `POST /api/admin/import/preview`.
pub async fn do_preview(state: &AppState, who: &AuthUser, body: &str) -> Result<ImportPreview, ImportError> {
    let token = token_of(body);
    let wanted = match parse(body).and_then(|rows| validate(&rows)) {
        Ok(w) => w,
        Err(r) => {
            audit_rejected(state, who, Event::DirectoryImportPreview, &token, &r.message).await?;
            return Err(r.into());
        }
    };
    let mut tx = state.store.begin().await?;
    let mut preview = match diff(&wanted, &current(&mut tx, who.id()).await?) {
        Ok(p) => p,
        Err(r) => {
            tx.rollback().await?;
            audit_rejected(state, who, Event::DirectoryImportPreview, &token, &r.message).await?;
            return Err(r.into());
        }
    };
    preview.token = token.clone();
    let format = if body.trim_start_matches('\u{feff}').trim_start().starts_with('[') { "json" } else { "csv" };
    sqlx::query("DELETE FROM import_previews WHERE created_at < ?")
        .bind(now_ms() - PREVIEW_TTL_MS)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT OR REPLACE INTO import_previews (token, format, body, diff_hash, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&token)
    .bind(format)
    .bind(body)
    .bind(diff_hash(&preview))
    .bind(who.id().0)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let rec = AuditRecord::ok(Event::DirectoryImportPreview)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("import:{token}"))
        .detail(summary(&preview.counts));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(preview)
}

/// Progress of the imports being applied, by token. Counters are atomics shared with the
/// hashing threads and the writing loop; an entry lives exactly as long as its apply call.
#[derive(Default)]
pub struct ProgressBoard {
    running: std::sync::Mutex<HashMap<String, Arc<Counters>>>,
}

#[derive(Default)]
pub struct Counters {
    hashed: AtomicU64,
    to_hash: AtomicU64,
    written: AtomicU64,
    to_write: AtomicU64,
}

impl ProgressBoard {
    pub fn get(&self, token: &str) -> Option<ImportProgress> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.get(token).map(|c| ImportProgress {
            hashed: c.hashed.load(Ordering::Relaxed),
            to_hash: c.to_hash.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            to_write: c.to_write.load(Ordering::Relaxed),
        })
    }

    fn start(self: &Arc<Self>, token: &str) -> ProgressGuard {
        let c = Arc::new(Counters::default());
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(token.to_string(), c.clone());
        ProgressGuard { board: self.clone(), token: token.to_string(), counters: c }
    }
}

/// Removes its entry when the apply call ends, however it ends.
struct ProgressGuard {
    board: Arc<ProgressBoard>,
    token: String,
    counters: Arc<Counters>,
}

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        self.board.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.token);
    }
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Initial passwords and their hashes for `eids`, hashed on blocking threads in parallel
/// (argon2 is slow on purpose) and before the write transaction starts.
async fn initial_passwords(
    eids: Vec<String>,
    progress: Arc<Counters>,
) -> Result<HashMap<String, (String, String)>, AppError> {
    progress.to_hash.store(eids.len() as u64, Ordering::Relaxed);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let chunk = eids.len().div_ceil(threads).max(1);
    let mut tasks = Vec::new();
    for part in eids.chunks(chunk) {
        let part = part.to_vec();
        let progress = progress.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            part.into_iter()
                .map(|eid| {
                    let pw = random_password();
                    let r = auth::hash_password(&pw).map(|h| (eid, (pw, h)));
                    progress.hashed.fetch_add(1, Ordering::Relaxed);
                    r
                })
                .collect::<Result<Vec<_>, _>>()
        }));
    }
    let mut out = HashMap::new();
    for t in tasks {
        out.extend(t.await.map_err(|e| AppError::Internal(e.to_string()))??);
    }
    Ok(out)
}

/// `POST /api/admin/import/apply`.
pub async fn do_apply(state: &AppState, who: &AuthUser, token: &str) -> Result<ImportApplied, ImportError> {
    let row = sqlx::query("SELECT body, diff_hash FROM import_previews WHERE token = ? AND created_at >= ?")
        .bind(token)
        .bind(now_ms() - PREVIEW_TTL_MS)
        .fetch_optional(state.store.pool())
        .await?;
    let Some(row) = row else {
        let why = "no preview with this token: preview the file first";
        audit_rejected(state, who, Event::DirectoryImportApply, token, why).await?;
        return Err(AppError::NotFound(why.into()).into());
    };
    let (body, previewed): (String, String) = (row.get("body"), row.get("diff_hash"));
    let wanted = validate(&parse(&body)?)?;

    // The new people as the preview saw them; if that set changes before the transaction below,
    // the diff hash will not match and nothing is applied.
    let mut tx = state.store.begin().await?;
    let planned = diff(&wanted, &current(&mut tx, who.id()).await?)?;
    tx.rollback().await?;
    let progress = state.import_progress.start(token);
    let passwords = initial_passwords(
        planned.new.iter().map(|n| n.record.employee_id.clone()).collect(),
        progress.counters.clone(),
    )
    .await?;
    let written = |n: u64| progress.counters.written.fetch_add(n, Ordering::Relaxed);

    let mut tx = state.store.begin().await?;
    let plan = diff(&wanted, &current(&mut tx, who.id()).await?)?;
    if diff_hash(&plan) != previewed {
        tx.rollback().await?;
        let why = "the directory changed since the preview: preview the file again";
        audit_rejected(state, who, Event::DirectoryImportApply, token, why).await?;
        return Err(AppError::Conflict(why.into()).into());
    }
    let audit = |event: Event, target: String| AuditRecord::ok(event).by(who.id()).ip(&who.ip).target(target);
    let rows =
        plan.departments_new.len() + plan.new.len() + plan.changed.len() + plan.moved.len() + plan.deactivate.len();
    progress.counters.to_write.store(rows as u64, Ordering::Relaxed);

    // Departments, parents first (a parent's path sorts before its children's).
    let mut dept_ids: HashMap<String, DeptId> =
        dir_store::departments_tx(&mut tx).await?.into_iter().map(|d| (d.path, d.id)).collect();
    for path in &plan.departments_new {
        let (parent, name) = match path.rsplit_once(PATH_SEP) {
            Some((parent, name)) => (dept_ids.get(parent).cloned(), name),
            None => (None, path.as_str()),
        };
        let d = dir_store::create_department(&mut tx, name, parent.as_ref(), path).await?;
        audit_tx(
            &mut tx,
            &audit(Event::DepartmentCreate, format!("department:{}", d.id)).detail(path.clone()).after(&d),
        )
        .await?;
        dept_ids.insert(path.clone(), d.id);
        written(1);
    }
    let dept = |path: &str| if path.is_empty() { None } else { dept_ids.get(path) };

    let mut ids: HashMap<String, UserId> =
        plan.changed.iter().chain(&plan.moved).map(|c| (c.after.employee_id.clone(), c.user)).collect();
    ids.extend(dir_store::hr_people(&mut tx).await?.into_iter().map(|p| (p.record.employee_id, p.id)));
    let mut initial = Vec::with_capacity(plan.new.len());
    for n in &plan.new {
        let r = &n.record;
        let (password, hash) = match passwords.get(&r.employee_id) {
            Some(p) => p.clone(),
            None => {
                let pw = random_password();
                let h = auth::hash_password(&pw)?;
                (pw, h)
            }
        };
        let fields = HrFields {
            name: &r.name,
            dept: dept(&r.department),
            position: &r.position,
            role: r.role,
            status: r.status,
        };
        let id = dir_store::insert_hr_user(&mut tx, &r.employee_id, &r.employee_id, &hash, &fields).await?;
        audit_tx(&mut tx, &audit(Event::UserCreate, format!("user:{id}")).detail(r.employee_id.clone()).after(r))
            .await?;
        ids.insert(r.employee_id.clone(), id);
        initial.push(InitialPassword { employee_id: r.employee_id.clone(), username: r.employee_id.clone(), password });
        written(1);
    }

    // Changed and moved people (someone can be in both lists: write them once).
    let mut done = HashSet::new();
    for c in plan.changed.iter().chain(&plan.moved) {
        written(1);
        if !done.insert(c.user) {
            continue;
        }
        let a = &c.after;
        let fields = HrFields {
            name: &a.name,
            dept: dept(&a.department),
            position: &a.position,
            role: a.role,
            status: a.status,
        };
        dir_store::update_hr_user(&mut tx, c.user, &fields).await?;
        let event = if c.before.status != a.status { Event::UserReactivate } else { Event::UserUpdate };
        let rec = audit(event, format!("user:{}", c.user))
            .detail(format!("{}: {}", a.employee_id, c.fields.join(", ")))
            .before(&c.before)
            .after(a);
        audit_tx(&mut tx, &rec).await?;
    }

    // Managers, now that every new person has an id.
    let new_managers = plan.new.iter().map(|n| &n.record);
    let changed_managers =
        plan.changed.iter().filter(|c| c.before.manager_employee_id != c.after.manager_employee_id).map(|c| &c.after);
    for r in new_managers.chain(changed_managers) {
        let manager = r.manager_employee_id.as_ref().and_then(|m| ids.get(m)).copied();
        if let Some(&id) = ids.get(&r.employee_id) {
            dir_store::set_manager(&mut tx, id, manager).await?;
        }
    }

    let mut revoked = Vec::new();
    for d in &plan.deactivate {
        written(1);
        if dir_store::deactivate_user(&mut tx, d.user).await? {
            let sessions = sessions::revoke_user_sessions(&mut tx, d.user, None).await?;
            let rec = audit(Event::UserDeactivate, format!("user:{}", d.user))
                .detail(format!("{}: not in the HR file, {} sessions revoked", d.record.employee_id, sessions.len()))
                .before(&d.record)
                .after(ImportRecord { status: UserStatus::Deactivated, ..d.record.clone() });
            audit_tx(&mut tx, &rec).await?;
            revoked.extend(sessions);
        }
    }

    sqlx::query("DELETE FROM import_previews WHERE token = ?").bind(token).execute(&mut *tx).await?;
    let rec = audit(Event::DirectoryImportApply, format!("import:{token}")).detail(summary(&plan.counts));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;

    for d in &plan.deactivate {
        state.connections.close_user(d.user, "account deactivated");
    }
    state.connections.close_sessions(&revoked, "account deactivated");
    directory::publish_after_commit(state).await;
    Ok(ImportApplied { counts: plan.counts, initial_passwords: initial })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(csv: &str) -> Result<Vec<Wanted>, Rejected> {
        validate(&parse(csv)?)
    }

    fn person(id: i64, eid: &str, name: &str, dept: &str, manager: Option<&str>) -> HrPerson {
        HrPerson {
            id: UserId(id),
            username: eid.into(),
            record: ImportRecord {
                employee_id: eid.into(),
                name: name.into(),
                department: dept.into(),
                position: String::new(),
                manager_employee_id: manager.map(String::from),
                role: Role::Employee,
                status: UserStatus::Active,
            },
        }
    }

    #[test]
    fn csv_quoting_line_breaks_bom_and_crlf() {
        let text = "\u{feff}employee_id,name,department,position\r\n\
                    E1,\"Li, Lei\",Sales/East,\"say \"\"hi\"\"\"\r\n\
                    \r\n\
                    E2,\"two\nlines\",,\r\n\
                    E3,王芳,研发/前端, 工程师 \r\n";
        let records = csv_records(text.trim_start_matches('\u{feff}')).unwrap();
        let lines: Vec<usize> = records.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 2, 4, 6], "blank line skipped, the quoted line break counted");
        assert_eq!(records[1].1, ["E1", "Li, Lei", "Sales/East", "say \"hi\""]);
        assert_eq!(records[2].1, ["E2", "two\nlines", "", ""]);
        // A line break inside a name is refused, at the line where its row starts.
        assert_eq!(rows(text).unwrap_err().line, 4);
        let w = rows(&text.replace("\"two\nlines\"", "\"two lines\"")).unwrap();
        assert_eq!((w[0].line, w[0].name.as_str(), w[0].position.as_str()), (2, "Li, Lei", "say \"hi\""));
        assert_eq!(w[0].department, "Sales/East");
        assert_eq!((w[2].line, w[2].name.as_str(), w[2].department.as_str()), (5, "王芳", "研发/前端"));
        assert_eq!(w[2].position, "工程师");
    }

    #[test]
    fn chinese_headers_and_roles() {
        let w = rows("工号,姓名,部门,职位,上级工号,角色\nA1,甲,总部,经理,,部门管理员\nA2,乙,总部,,A1,\n").unwrap();
        assert_eq!(w[0].role, Some(Role::DeptAdmin));
        assert_eq!(w[1].manager.as_deref(), Some("A1"));
        assert_eq!(w[1].role, None);
    }

    /// Each malformed file is refused with the line of its first bad row.
    #[test]
    fn malformed_files_name_the_line() {
        let h = "employee_id,name,department,manager_employee_id,role\n";
        let cases: &[(&str, usize, &str)] = &[
            ("E1,A,,,\nE2,B,,\n", 3, "4 fields"),
            ("E1,A,,,\n,B,,,\n", 3, "employee id is empty"),
            ("E1,A,,,\nE1,B,,,\n", 3, "appears again (first on line 2)"),
            ("E1,,,,\n", 2, "name is empty"),
            ("E1,A,Sales//East,,\n", 2, "empty level"),
            ("E1,A,,E9,\n", 2, "manager E9 is not in the file"),
            ("E1,A,,E1,\n", 2, "own manager"),
            ("E1,A,,,root\n", 2, "unknown role"),
            ("E1,A,,,\nE 2,B,,,\n", 3, "letters, digits"),
            ("E1,A,,,\nE2,\"B,,,\n", 3, "not closed"),
            ("E1,A\"x,,,\n", 2, "quote inside"),
        ];
        for (body, line, needle) in cases {
            let err = rows(&format!("{h}{body}")).expect_err(body);
            assert_eq!(err.line, *line, "{body:?}: {err:?}");
            assert!(err.message.contains(needle), "{body:?}: {:?} should say {needle:?}", err.message);
            assert!(err.message.starts_with(&format!("line {line}: ")), "{:?}", err.message);
        }
        assert_eq!(rows("name,department\nA,B\n").unwrap_err().line, 1);
        assert_eq!(rows("employee_id,name\n").unwrap_err().line, 0, "no rows");
    }

    #[test]
    fn json_rows_and_errors() {
        let w = rows(r#"[{"employee_id":"E1","name":"A","department":"X/Y"},{"employee_id":"E2","name":"B","manager_employee_id":"E1"}]"#)
            .unwrap();
        assert_eq!((w[1].line, w[1].manager.as_deref()), (2, Some("E1")));
        let err = rows(r#"[{"employee_id":"E1","name":"A"},{"name":"B"}]"#).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(rows("[1,").is_err());
    }

    #[test]
    fn diff_new_changed_moved_deactivated_and_idempotent() {
        let current = Current {
            people: vec![
                person(10, "E1", "Li", "Sales", None),
                person(11, "E2", "Han", "Sales", Some("E1")),
                person(12, "E3", "Gone", "Eng", None),
                person(13, "ADMIN1", "Me", "", None),
            ],
            departments: ["Sales", "Eng"].into_iter().map(String::from).collect(),
            usernames: ["admin", "E1", "E2", "E3", "ADMIN1"].into_iter().map(String::from).collect(),
            acting: UserId(13),
        };
        let file = "employee_id,name,department,manager_employee_id\n\
                    E1,Li,Sales/East,\n\
                    E2,Han Meimei,Sales,E1\n\
                    E4,New,Eng/Web/Front,E1\n";
        let p = diff(&rows(file).unwrap(), &current).unwrap();
        assert_eq!(
            p.counts,
            ImportCounts { new: 1, changed: 1, moved: 1, deactivate: 1, unchanged: 0, departments_new: 3 }
        );
        assert_eq!(p.new[0].record.employee_id, "E4");
        assert_eq!(p.new[0].line, 4);
        assert_eq!((p.changed[0].user, p.changed[0].fields.clone()), (UserId(11), vec!["name".to_string()]));
        assert_eq!(p.moved[0].before.department, "Sales");
        assert_eq!(p.moved[0].after.department, "Sales/East");
        assert_eq!(p.deactivate[0].user, UserId(12), "E3 is not in the file; the acting admin stays");
        assert_eq!(p.departments_new, ["Eng/Web", "Eng/Web/Front", "Sales/East"]);

        let same = "employee_id,name,department,manager_employee_id\nE1,Li,Sales,\nE2,Han,Sales,E1\nE3,Gone,Eng,\n";
        let p = diff(&rows(same).unwrap(), &current).unwrap();
        assert_eq!(p.counts, ImportCounts { unchanged: 3, ..ImportCounts::default() });

        let taken = "employee_id,name\nE1,Li\nadmin,Someone\n";
        assert_eq!(diff(&rows(taken).unwrap(), &current).unwrap_err().line, 3);
    }

    #[test]
    fn the_acting_admin_cannot_demote_themselves() {
        let mut me = person(13, "ADMIN1", "Me", "", None);
        me.record.role = Role::SuperAdmin;
        let current =
            Current { people: vec![me], departments: HashSet::new(), usernames: HashSet::new(), acting: UserId(13) };
        let err = diff(&rows("employee_id,name,role\nADMIN1,Me,employee\n").unwrap(), &current).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(diff(&rows("employee_id,name\nADMIN1,Me\n").unwrap(), &current).is_ok(), "no role column: kept");
    }
}
