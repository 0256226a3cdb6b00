//! A project's task board (项目任务看板): its columns, its tasks and their comments, in one
//! document per project.
//!
//! ```text
//! ROOT { kind: "project", project: str,
//!        columns:  { "<column id>": { name: str, order: f64, done: bool } },
//!        tasks:    { "<task id>": { title: str, description: str, column: str, order: f64,
//!                                   priority: int (0..=3), due: int (ms, 0 none),
//!                                   remind_at: int (ms, 0 none), link: str,
//!                                   created_by: int, created_at: int (ms), deleted: bool,
//!                                   assignees: { "<user id>": true },
//!                                   labels:    { "<label>": true },
//!                                   checklist: { "<item id>": { text: str, done: bool, order: f64 } },
//!                                   "file:<file id>": { name: str, size: int, mime: str,
//!                                                       by: int, at: int (ms) } } },
//!        comments: { "<task id>|<ms>|<user id>|<nonce>": str } }
//! ```
//!
//! Why this shape merges well:
//! - tasks and columns are map entries under random ids, so two devices creating tasks offline
//!   never collide, and a task exists once whatever happens to it;
//! - a task's column is one register: two devices moving the same card to different columns
//!   concurrently end with one of the two columns on every replica (Automerge picks the same
//!   winner everywhere), never with two cards or none; its place in the column is a fractional
//!   `order`, so a move writes one number and never rewrites its neighbours;
//! - assignees, labels and checklist items are maps, so concurrent additions all survive;
//!   attached files are keys of the task itself (`file:<id>`), so two devices attaching the first
//!   files of a task created before attachments existed cannot race to create a shared map;
//! - deleting a task is a flag, so an edit made offline to a task someone deleted cannot bring
//!   back half a task;
//! - a comment is one string under a key that names its author, so the relay can tell whose it is
//!   from the operation alone ([`validate`]).
//!
//! The default columns (待办 / 进行中 / 已完成) are part of the genesis, identical on every replica.
//! A task's history (who changed what, when) is read from the document's own changes
//! ([`history`]): nothing is stored twice.

use super::read::{bool_at, f64_at, map_at, str_at};
use crate::actor::{self, GENESIS_ACTOR};
use crate::ids::{DocumentId, ProjectId, UserId};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// Longest task title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description or comment, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The ids of the genesis columns, in order; the app names them in the reader's language.
pub const DEFAULT_COLUMNS: [&str; 3] = ["todo", "doing", "done"];

/// The document id of `project`'s board.
pub fn board_id(project: &ProjectId) -> DocumentId {
    DocumentId::derived(&["project", project.as_str()])
}

/// The genesis of a board: identical on every replica.
pub fn genesis(project: &ProjectId) -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "project").expect("put on root");
        doc.put(ROOT, "project", project.as_str()).expect("put on root");
        let cols = doc.put_object(ROOT, "columns", ObjType::Map).expect("put on root");
        for (i, id) in DEFAULT_COLUMNS.iter().enumerate() {
            let c = doc.put_object(&cols, *id, ObjType::Map).expect("put column");
            doc.put(&c, "name", "").expect("put");
            doc.put(&c, "order", (i + 1) as f64).expect("put");
            doc.put(&c, "done", *id == "done").expect("put");
        }
        doc.put_object(ROOT, "tasks", ObjType::Map).expect("put on root");
        doc.put_object(ROOT, "comments", ObjType::Map).expect("put on root");
    })
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub id: String,
    /// Empty for a genesis column that nobody renamed: the app shows its default name.
    pub name: String,
    pub order: f64,
    /// Tasks here count as finished (not overdue, not reminded).
    pub done: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckItem {
    pub id: String,
    pub text: String,
    pub done: bool,
    pub order: f64,
}

/// A task's key for an attached file: `file:<file id>`.
const FILE_KEY: &str = "file:";

/// 优先级: none, low, medium, high.
pub const PRIORITIES: [&str; 4] = ["none", "low", "medium", "high"];

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub description: String,
    pub column: String,
    pub order: f64,
    pub priority: u8,
    /// Due time, unix ms.
    pub due: Option<i64>,
    /// When to remind the assignees, unix ms.
    pub remind_at: Option<i64>,
    /// Where the task came from: `chat:<channel id>/<message id>`, a page, a URL.
    pub link: String,
    pub created_by: UserId,
    pub created_at: i64,
    pub deleted: bool,
    pub assignees: Vec<UserId>,
    pub labels: Vec<String>,
    pub checklist: Vec<CheckItem>,
    /// Files attached, oldest first (uploaded into the project: see [`crate::api::FileScope`]).
    pub attachments: Vec<TaskFile>,
}

/// A file attached to a task. The bytes are on the relay, which checks on every download that
/// the reader may read the project the file was uploaded into.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TaskFile {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
    pub by: UserId,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub key: String,
    pub task: String,
    pub author: UserId,
    pub ts: i64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("a task needs a title of 1 to {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("at most {MAX_TEXT_CHARS} characters")]
    TooLong,
    #[error("an empty comment")]
    Empty,
    #[error("no such task")]
    NoTask,
    #[error("no such column")]
    NoColumn,
    #[error("this is not a project board")]
    NotABoard,
    #[error("the last column cannot be removed")]
    LastColumn,
}

// --- reading ----------------------------------------------------------------------------------

/// The project a board belongs to.
pub fn project_of(doc: &impl ReadDoc) -> Option<ProjectId> {
    (str_at(doc, &ROOT, "kind") == "project").then(|| ProjectId(str_at(doc, &ROOT, "project")))
}

/// The columns, left to right (by `order`, ties by id so every replica agrees).
pub fn columns(doc: &impl ReadDoc) -> Vec<Column> {
    let Some(cols) = map_at(doc, &ROOT, "columns") else { return Vec::new() };
    let mut out: Vec<Column> = doc
        .map_range(&cols, ..)
        .filter_map(|item| {
            let id = match Value::from(item.value.clone()) {
                Value::Object(ObjType::Map) => item.id(),
                _ => return None,
            };
            Some(Column {
                id: item.key.to_string(),
                name: str_at(doc, &id, "name"),
                order: f64_at(doc, &id, "order"),
                done: bool_at(doc, &id, "done"),
            })
        })
        .collect();
    out.sort_by(|a, b| a.order.total_cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
    out
}

fn scalar_of(v: &Value<'_>) -> Option<ScalarValue> {
    match v {
        Value::Scalar(s) => Some(s.clone().into_owned()),
        _ => None,
    }
}

fn as_f64(s: &ScalarValue) -> f64 {
    match s {
        ScalarValue::F64(f) => *f,
        ScalarValue::Int(i) => *i as f64,
        ScalarValue::Uint(u) => *u as f64,
        _ => 0.0,
    }
}

/// One pass over a task's fields: a large board is read after every change, and one lookup per
/// field (each a search of Automerge's columns) made reading 2,000 tasks five times slower.
fn read_task(doc: &impl ReadDoc, id: &str, obj: &ObjId) -> Task {
    let mut t = Task { id: id.to_string(), ..Default::default() };
    let opt = |v: i64| (v > 0).then_some(v);
    for item in doc.map_range(obj, ..) {
        let value = Value::from(item.value.clone());
        let key: &str = &item.key;
        match (key, scalar_of(&value)) {
            ("title", Some(ScalarValue::Str(s))) => t.title = s.to_string(),
            ("description", Some(ScalarValue::Str(s))) => t.description = s.to_string(),
            ("column", Some(ScalarValue::Str(s))) => t.column = s.to_string(),
            ("link", Some(ScalarValue::Str(s))) => t.link = s.to_string(),
            ("order", Some(v)) => t.order = as_f64(&v),
            ("priority", Some(v)) => t.priority = (as_f64(&v) as i64).clamp(0, 3) as u8,
            ("due", Some(v)) => t.due = opt(as_f64(&v) as i64),
            ("remind_at", Some(v)) => t.remind_at = opt(as_f64(&v) as i64),
            ("created_by", Some(v)) => t.created_by = UserId(as_f64(&v) as i64),
            ("created_at", Some(v)) => t.created_at = as_f64(&v) as i64,
            ("deleted", Some(ScalarValue::Boolean(b))) => t.deleted = b,
            ("assignees" | "labels", None) if matches!(value, Value::Object(ObjType::Map)) => {
                let m = item.id();
                let on: Vec<String> = doc
                    .map_range(&m, ..)
                    .filter(|i| matches!(Value::from(i.value.clone()), Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Boolean(true))))
                    .map(|i| i.key.to_string())
                    .collect();
                if key == "assignees" {
                    t.assignees = on.iter().filter_map(|k| k.parse().ok()).map(UserId).collect();
                    t.assignees.sort();
                } else {
                    t.labels = on;
                }
            }
            ("checklist", None) if matches!(value, Value::Object(ObjType::Map)) => {
                let cl = item.id();
                let mut items: Vec<CheckItem> = doc
                    .map_range(&cl, ..)
                    .filter_map(|i| match Value::from(i.value.clone()) {
                        Value::Object(ObjType::Map) => {
                            let o = i.id();
                            Some(CheckItem {
                                id: i.key.to_string(),
                                text: str_at(doc, &o, "text"),
                                done: bool_at(doc, &o, "done"),
                                order: f64_at(doc, &o, "order"),
                            })
                        }
                        _ => None,
                    })
                    .collect();
                items.sort_by(|a, b| a.order.total_cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
                t.checklist = items;
            }
            (k, None) if k.starts_with(FILE_KEY) && matches!(value, Value::Object(ObjType::Map)) => {
                let o = item.id();
                t.attachments.push(TaskFile {
                    id: k[FILE_KEY.len()..].to_string(),
                    name: str_at(doc, &o, "name"),
                    size: f64_at(doc, &o, "size").max(0.0) as u64,
                    mime: str_at(doc, &o, "mime"),
                    by: UserId(f64_at(doc, &o, "by") as i64),
                    at: f64_at(doc, &o, "at") as i64,
                });
            }
            _ => {}
        }
    }
    t.attachments.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    t
}

/// Every task that is not deleted, in board order: by column (left to right), then by `order`.
/// A task whose column was removed shows in the first column.
pub fn tasks(doc: &impl ReadDoc) -> Vec<Task> {
    let Some(tasks) = map_at(doc, &ROOT, "tasks") else { return Vec::new() };
    let cols = columns(doc);
    let first = cols.first().map(|c| c.id.clone()).unwrap_or_default();
    let rank: HashMap<&str, usize> = cols.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut out: Vec<Task> = doc
        .map_range(&tasks, ..)
        .filter_map(|item| match Value::from(item.value.clone()) {
            Value::Object(ObjType::Map) => Some(read_task(doc, &item.key, &item.id())),
            _ => None,
        })
        .filter(|t| !t.deleted)
        .map(|mut t| {
            if !rank.contains_key(t.column.as_str()) {
                t.column = first.clone();
            }
            t
        })
        .collect();
    out.sort_by(|a, b| {
        rank.get(a.column.as_str())
            .cmp(&rank.get(b.column.as_str()))
            .then(a.order.total_cmp(&b.order))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// One task (deleted ones too, so a detail view can say so).
pub fn task(doc: &impl ReadDoc, id: &str) -> Option<Task> {
    let tasks = map_at(doc, &ROOT, "tasks")?;
    let obj = map_at(doc, &tasks, id)?;
    Some(read_task(doc, id, &obj))
}

/// Whether `task` sits in a column marked done.
pub fn is_done(cols: &[Column], task: &Task) -> bool {
    cols.iter().any(|c| c.id == task.column && c.done)
}

/// The comment key: task, time, author, a nonce (two comments in one millisecond stay two).
pub fn comment_key(task: &str, ts: i64, author: UserId, nonce: &str) -> String {
    format!("{task}|{ts}|{}|{nonce}", author.0)
}

fn parse_comment_key(k: &str) -> Option<(String, i64, UserId)> {
    let mut parts = k.split('|');
    let task = parts.next()?.to_string();
    let ts = parts.next()?.parse().ok()?;
    let author = UserId(parts.next()?.parse().ok()?);
    parts.next()?;
    Some((task, ts, author))
}

/// A task's comments, oldest first.
pub fn comments(doc: &impl ReadDoc, task: &str) -> Vec<Comment> {
    let Some(m) = map_at(doc, &ROOT, "comments") else { return Vec::new() };
    let prefix = format!("{task}|");
    let mut out: Vec<Comment> = doc
        .map_range(&m, prefix.clone()..)
        .take_while(|item| item.key.starts_with(&prefix))
        .filter_map(|item| {
            let (task, ts, author) = parse_comment_key(&item.key)?;
            let text = match Value::from(item.value.clone()) {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Str(s) => s.to_string(),
                    _ => return None,
                },
                _ => return None,
            };
            Some(Comment { key: item.key.to_string(), task, author, ts, text })
        })
        .collect();
    out.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.key.cmp(&b.key)));
    out
}

/// How many comments each task has.
pub fn comment_counts(doc: &impl ReadDoc) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    if let Some(m) = map_at(doc, &ROOT, "comments") {
        for item in doc.map_range(&m, ..) {
            if let Some((task, _, _)) = parse_comment_key(&item.key) {
                *out.entry(task).or_insert(0) += 1;
            }
        }
    }
    out
}

// --- writing ----------------------------------------------------------------------------------

fn commit(doc: &mut AutoCommit, now_ms: i64) {
    doc.commit_with(CommitOptions::default().with_time(now_ms / 1000));
}

fn tasks_map(doc: &AutoCommit) -> Result<ObjId, TaskError> {
    map_at(doc, &ROOT, "tasks").ok_or(TaskError::NotABoard)
}

fn task_obj(doc: &AutoCommit, id: &str) -> Result<ObjId, TaskError> {
    map_at(doc, &tasks_map(doc)?, id).ok_or(TaskError::NoTask)
}

fn check_title(title: &str) -> Result<&str, TaskError> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE_CHARS {
        return Err(TaskError::Title);
    }
    Ok(t)
}

/// A position between two neighbours' `order`s (either may be missing: an end of the column).
pub fn order_between(before: Option<f64>, after: Option<f64>) -> f64 {
    match (before, after) {
        (None, None) => 1.0,
        (Some(b), None) => b + 1.0,
        (None, Some(a)) => a - 1.0,
        (Some(b), Some(a)) => (b + a) / 2.0,
    }
}

/// Add `task` (its id, title, column, order and the rest as given).
pub fn create(doc: &mut AutoCommit, t: &Task, now_ms: i64) -> Result<(), TaskError> {
    let title = check_title(&t.title)?;
    if t.description.chars().count() > MAX_TEXT_CHARS {
        return Err(TaskError::TooLong);
    }
    let tasks = tasks_map(doc)?;
    let o = doc.put_object(&tasks, &t.id, ObjType::Map).map_err(|_| TaskError::NotABoard)?;
    let put = |doc: &mut AutoCommit, k: &str, v: ScalarValue| doc.put(&o, k, v).expect("put on a new task");
    put(doc, "title", title.into());
    put(doc, "description", t.description.as_str().into());
    put(doc, "column", t.column.as_str().into());
    put(doc, "order", ScalarValue::F64(t.order));
    put(doc, "priority", ScalarValue::Int(t.priority.min(3) as i64));
    put(doc, "due", ScalarValue::Int(t.due.unwrap_or(0)));
    put(doc, "remind_at", ScalarValue::Int(t.remind_at.unwrap_or(0)));
    put(doc, "link", t.link.as_str().into());
    put(doc, "created_by", ScalarValue::Int(t.created_by.0));
    put(doc, "created_at", ScalarValue::Int(t.created_at));
    put(doc, "deleted", ScalarValue::Boolean(false));
    let a = doc.put_object(&o, "assignees", ObjType::Map).expect("put on a new task");
    for u in &t.assignees {
        doc.put(&a, u.0.to_string(), true).expect("put");
    }
    let l = doc.put_object(&o, "labels", ObjType::Map).expect("put on a new task");
    for label in &t.labels {
        doc.put(&l, label.as_str(), true).expect("put");
    }
    let cl = doc.put_object(&o, "checklist", ObjType::Map).expect("put on a new task");
    for item in &t.checklist {
        let i = doc.put_object(&cl, &item.id, ObjType::Map).expect("put");
        doc.put(&i, "text", item.text.as_str()).expect("put");
        doc.put(&i, "done", item.done).expect("put");
        doc.put(&i, "order", item.order).expect("put");
    }
    commit(doc, now_ms);
    Ok(())
}

/// One field of a task, as the detail view edits it.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    Title(String),
    Description(String),
    Priority(u8),
    Due(Option<i64>),
    RemindAt(Option<i64>),
    Link(String),
    Assign(UserId, bool),
    Label(String, bool),
    Deleted(bool),
    /// Move to `column` at `order`.
    Move(String, f64),
    CheckAdd {
        id: String,
        text: String,
        order: f64,
    },
    CheckDone(String, bool),
    CheckRemove(String),
    /// Attach an uploaded file (a second attach of the same file changes nothing).
    Attach(TaskFile),
    /// Take a file off the task (the stored file stays, like a message's after it is deleted).
    Detach(String),
}

/// Apply one edit to task `id` as one change. Writes only when the value differs, so an edit
/// that changes nothing leaves no change (and no history line).
pub fn edit(doc: &mut AutoCommit, id: &str, e: Edit, now_ms: i64) -> Result<(), TaskError> {
    let o = task_obj(doc, id)?;
    let before = read_task(doc, id, &o);
    let sub = |doc: &mut AutoCommit, key: &str| -> ObjId {
        match map_at(doc, &o, key) {
            Some(m) => m,
            None => doc.put_object(&o, key, ObjType::Map).expect("put on a task"),
        }
    };
    match e {
        Edit::Title(t) => {
            let t = check_title(&t)?.to_string();
            if t != before.title {
                doc.put(&o, "title", t).expect("put");
            }
        }
        Edit::Description(d) => {
            if d.chars().count() > MAX_TEXT_CHARS {
                return Err(TaskError::TooLong);
            }
            if d != before.description {
                doc.put(&o, "description", d).expect("put");
            }
        }
        Edit::Priority(p) if p.min(3) != before.priority => doc.put(&o, "priority", p.min(3) as i64).expect("put"),
        Edit::Due(d) if d != before.due => doc.put(&o, "due", d.unwrap_or(0)).expect("put"),
        Edit::RemindAt(r) if r != before.remind_at => doc.put(&o, "remind_at", r.unwrap_or(0)).expect("put"),
        Edit::Link(l) if l != before.link => doc.put(&o, "link", l).expect("put"),
        Edit::Assign(u, on) => {
            let m = sub(doc, "assignees");
            if on && !before.assignees.contains(&u) {
                doc.put(&m, u.0.to_string(), true).expect("put");
            } else if !on && before.assignees.contains(&u) {
                doc.delete(&m, u.0.to_string()).expect("delete");
            }
        }
        Edit::Label(l, on) => {
            let l = l.trim().to_string();
            if l.is_empty() || l.chars().count() > 40 {
                return Err(TaskError::TooLong);
            }
            let m = sub(doc, "labels");
            if on && !before.labels.contains(&l) {
                doc.put(&m, l, true).expect("put");
            } else if !on && before.labels.contains(&l) {
                doc.delete(&m, l).expect("delete");
            }
        }
        Edit::Deleted(d) if d != before.deleted => doc.put(&o, "deleted", d).expect("put"),
        Edit::Move(col, order) => {
            if !columns(doc).iter().any(|c| c.id == col) {
                return Err(TaskError::NoColumn);
            }
            if col != before.column {
                doc.put(&o, "column", col).expect("put");
            }
            if order != before.order {
                doc.put(&o, "order", order).expect("put");
            }
        }
        Edit::CheckAdd { id: item, text, order } => {
            let text = text.trim().to_string();
            if text.is_empty() {
                return Err(TaskError::Empty);
            }
            let m = sub(doc, "checklist");
            let i = doc.put_object(&m, item, ObjType::Map).expect("put");
            doc.put(&i, "text", text).expect("put");
            doc.put(&i, "done", false).expect("put");
            doc.put(&i, "order", order).expect("put");
        }
        Edit::CheckDone(item, done) => {
            let m = sub(doc, "checklist");
            if let Some(i) = map_at(doc, &m, &item) {
                doc.put(&i, "done", done).expect("put");
            }
        }
        Edit::CheckRemove(item) => {
            let m = sub(doc, "checklist");
            if map_at(doc, &m, &item).is_some() {
                doc.delete(&m, item).expect("delete");
            }
        }
        Edit::Attach(f) => {
            if f.id.is_empty() || f.name.chars().count() > 255 {
                return Err(TaskError::TooLong);
            }
            let key = format!("{FILE_KEY}{}", f.id);
            if map_at(doc, &o, &key).is_none() {
                let a = doc.put_object(&o, key, ObjType::Map).expect("put");
                doc.put(&a, "name", f.name).expect("put");
                doc.put(&a, "size", f.size as i64).expect("put");
                doc.put(&a, "mime", f.mime).expect("put");
                doc.put(&a, "by", f.by.0).expect("put");
                doc.put(&a, "at", f.at).expect("put");
            }
        }
        Edit::Detach(id) => {
            let key = format!("{FILE_KEY}{id}");
            if map_at(doc, &o, &key).is_some() {
                doc.delete(&o, key).expect("delete");
            }
        }
        _ => {}
    }
    commit(doc, now_ms);
    Ok(())
}

/// Add a comment by `author` on `task`.
pub fn add_comment(
    doc: &mut AutoCommit,
    task: &str,
    author: UserId,
    text: &str,
    nonce: &str,
    now_ms: i64,
) -> Result<String, TaskError> {
    task_obj(doc, task)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(TaskError::Empty);
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(TaskError::TooLong);
    }
    let m = map_at(doc, &ROOT, "comments").ok_or(TaskError::NotABoard)?;
    let key = comment_key(task, now_ms, author, nonce);
    doc.put(&m, key.as_str(), text).expect("put");
    commit(doc, now_ms);
    Ok(key)
}

/// Remove a comment (one's own; the project's owner and admins may remove anyone's: the relay
/// checks, see [`validate`]).
pub fn remove_comment(doc: &mut AutoCommit, key: &str, now_ms: i64) -> Result<(), TaskError> {
    let m = map_at(doc, &ROOT, "comments").ok_or(TaskError::NotABoard)?;
    if doc.get(&m, key).ok().flatten().is_none() {
        return Err(TaskError::NoTask);
    }
    doc.delete(&m, key).expect("delete");
    commit(doc, now_ms);
    Ok(())
}

/// Add a column after the others.
pub fn add_column(doc: &mut AutoCommit, id: &str, name: &str, now_ms: i64) -> Result<(), TaskError> {
    let name = check_title(name)?.to_string();
    let cols = map_at(doc, &ROOT, "columns").ok_or(TaskError::NotABoard)?;
    let last = columns(doc).last().map(|c| c.order);
    let c = doc.put_object(&cols, id, ObjType::Map).expect("put");
    doc.put(&c, "name", name).expect("put");
    doc.put(&c, "order", order_between(last, None)).expect("put");
    doc.put(&c, "done", false).expect("put");
    commit(doc, now_ms);
    Ok(())
}

pub fn rename_column(doc: &mut AutoCommit, id: &str, name: &str, now_ms: i64) -> Result<(), TaskError> {
    let name = check_title(name)?.to_string();
    let cols = map_at(doc, &ROOT, "columns").ok_or(TaskError::NotABoard)?;
    let c = map_at(doc, &cols, id).ok_or(TaskError::NoColumn)?;
    doc.put(&c, "name", name).expect("put");
    commit(doc, now_ms);
    Ok(())
}

/// Remove a column; its tasks show in the first column from then on.
pub fn remove_column(doc: &mut AutoCommit, id: &str, now_ms: i64) -> Result<(), TaskError> {
    let cols = map_at(doc, &ROOT, "columns").ok_or(TaskError::NotABoard)?;
    map_at(doc, &cols, id).ok_or(TaskError::NoColumn)?;
    if columns(doc).len() <= 1 {
        return Err(TaskError::LastColumn);
    }
    doc.delete(&cols, id).expect("delete");
    commit(doc, now_ms);
    Ok(())
}

// --- history ----------------------------------------------------------------------------------

/// One line of a task's history: one change touching one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Who made the change (from its actor id; `None` for the genesis).
    pub user: Option<UserId>,
    /// When, unix seconds (the author's clock).
    pub ts: i64,
    /// `created`, a field name (`title`, `column`, …), `assignees`, `labels`, `checklist` or
    /// `comment`.
    pub field: String,
    /// The new value when it is one value (a title, a column id, a due time); for `assignees` and
    /// `labels` `+key` or `-key`; empty otherwise.
    pub value: String,
}

fn scalar_text(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Str(s) => s.to_string(),
        ScalarValue::Int(i) => i.to_string(),
        ScalarValue::Uint(u) => u.to_string(),
        ScalarValue::F64(f) => f.to_string(),
        ScalarValue::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The history of task `id`, oldest first, read from the document's changes: the change that
/// created it, then one entry per field each later change touched (a change that moves a card
/// writes `column` and `order`; only `column` is reported, `order` alone is "reordered").
pub fn history(doc: &mut AutoCommit, id: &str) -> Vec<HistoryEntry> {
    let (tasks_obj, comments_obj) = genesis_objects();
    // Objects belonging to the task → the task field they sit under ("" for the task itself).
    let mut owned: HashMap<OpId, String> = HashMap::new();
    let comment_prefix = format!("{id}|");
    let mut out = Vec::new();
    for change in doc.get_changes(&[]) {
        let change = change.decode();
        let user = actor::user_of(&change.actor_id);
        let ts = change.time;
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        for (i, op) in change.operations.iter().enumerate() {
            let op_id = OpId::new(change.start_op.get() + i as u64, &change.actor_id);
            let ObjectId::Id(target) = &op.obj else { continue };
            let key = match &op.key {
                Key::Map(k) => k.to_string(),
                Key::Seq(_) => String::new(),
            };
            if target == tasks_obj && key == id {
                if matches!(op.action, OpType::Make(_)) {
                    owned.insert(op_id, String::new());
                    fields.insert("created".into(), String::new());
                }
                continue;
            }
            if target == comments_obj && key.starts_with(&comment_prefix) {
                fields.insert("comment".into(), String::new());
                continue;
            }
            let Some(field) = owned.get(target).cloned() else { continue };
            if fields.contains_key("created") {
                // Everything the creating change writes is the task's first state.
                if matches!(op.action, OpType::Make(_)) {
                    owned.insert(op_id, if field.is_empty() { key } else { field });
                }
                continue;
            }
            if field.is_empty() {
                // A field of the task itself.
                match &op.action {
                    OpType::Make(_) => {
                        owned.insert(op_id, key.clone());
                        fields.entry(key).or_default();
                    }
                    OpType::Put(v) => {
                        fields.insert(key, scalar_text(v));
                    }
                    _ => {
                        fields.entry(key).or_default();
                    }
                }
            } else {
                if matches!(op.action, OpType::Make(_)) {
                    owned.insert(op_id, field.clone());
                }
                let value = match (&field[..], &op.action) {
                    ("assignees" | "labels", OpType::Put(_)) => format!("+{key}"),
                    ("assignees" | "labels", OpType::Delete) => format!("-{key}"),
                    _ => String::new(),
                };
                let slot = fields.entry(field).or_default();
                if !value.is_empty() {
                    if !slot.is_empty() {
                        slot.push(' ');
                    }
                    slot.push_str(&value);
                }
            }
        }
        if fields.contains_key("column") {
            fields.remove("order");
        }
        for (field, value) in fields {
            out.push(HistoryEntry { user, ts, field, value });
        }
    }
    out
}

// --- who may change what ----------------------------------------------------------------------

/// What a writer may do beyond the members' common ground.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Powers {
    /// May delete others' comments (the project's owner, admins).
    pub moderate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("the board's fixed fields cannot be changed")]
    Root,
    #[error("this is not something a project board holds")]
    Shape,
    #[error("a comment must name its real author")]
    Impersonation,
    #[error("another person's comment can only be removed by the project owner or an admin")]
    OthersComment,
}

/// The object ids the genesis creates: (tasks map, comments map).
fn genesis_objects() -> &'static (OpId, OpId) {
    static IDS: OnceLock<(OpId, OpId)> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut g = genesis(&ProjectId(String::new()));
        (super::genesis_object(&mut g, "tasks"), super::genesis_object(&mut g, "comments"))
    })
}

/// Check one change against the board's rules, as made by `user` (a member: the relay checked
/// that before) with `powers`:
/// - the root is never written after the genesis;
/// - a task is a map under `tasks` and is never removed from it (deleting is the `deleted` flag);
/// - a comment is a string whose key names its author, who alone writes it; removing someone
///   else's takes `moderate`;
/// - inside tasks and columns every member edits everything (as on a shared whiteboard).
pub fn validate(change: &ExpandedChange, user: UserId, powers: Powers) -> Result<(), Violation> {
    if change.actor_id.to_bytes() == GENESIS_ACTOR {
        return Ok(());
    }
    let (tasks_obj, comments_obj) = genesis_objects();
    for op in &change.operations {
        let ObjectId::Id(target) = &op.obj else { return Err(Violation::Root) };
        if target == tasks_obj {
            match op.action {
                OpType::Make(ObjType::Map) => continue,
                _ => return Err(Violation::Shape),
            }
        }
        if target == comments_obj {
            let Key::Map(k) = &op.key else { return Err(Violation::Shape) };
            let author = parse_comment_key(k).map(|(_, _, a)| a);
            match &op.action {
                OpType::Put(ScalarValue::Str(_)) if author == Some(user) => continue,
                OpType::Put(ScalarValue::Str(_)) => return Err(Violation::Impersonation),
                OpType::Delete if author == Some(user) || powers.moderate => continue,
                OpType::Delete => return Err(Violation::OthersComment),
                _ => return Err(Violation::Shape),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    fn board(user: i64, device: u8) -> AutoCommit {
        let mut d = genesis(&ProjectId("p1".into()));
        d.set_actor(actor_for(UserId(user), [device; 8]));
        d
    }

    fn new_task(id: &str, title: &str, column: &str, order: f64) -> Task {
        Task {
            id: id.into(),
            title: title.into(),
            column: column.into(),
            order,
            created_by: UserId(1),
            created_at: 1_000,
            ..Default::default()
        }
    }

    fn last(d: &mut AutoCommit) -> ExpandedChange {
        d.get_last_local_change().expect("a change").decode()
    }

    const MEMBER: Powers = Powers { moderate: false };

    #[test]
    fn files_attach_and_detach_and_merge() {
        let mut a = board(1, 1);
        create(&mut a, &new_task("t1", "合同", "todo", 1.0), 1_000).unwrap();
        let mut b = a.fork();
        b.set_actor(actor_for(UserId(2), [2; 8]));
        let file = |id: &str, at: i64| TaskFile {
            id: id.into(),
            name: format!("{id}.pdf"),
            size: 2_048,
            mime: "application/pdf".into(),
            by: UserId(1),
            at,
        };
        edit(&mut a, "t1", Edit::Attach(file("f1", 2_000)), 2_000).unwrap();
        validate(&last(&mut a), UserId(1), MEMBER).unwrap();
        edit(&mut b, "t1", Edit::Attach(file("f2", 3_000)), 3_000).unwrap();
        a.merge(&mut b).unwrap();
        let got = task(&a, "t1").unwrap().attachments;
        assert_eq!(got.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["f1", "f2"], "both survive the merge");
        assert_eq!((got[0].name.as_str(), got[0].size, got[0].by), ("f1.pdf", 2_048, UserId(1)));
        edit(&mut a, "t1", Edit::Detach("f1".into()), 4_000).unwrap();
        assert_eq!(task(&a, "t1").unwrap().attachments.len(), 1);
    }

    #[test]
    fn genesis_has_three_columns_and_is_identical_everywhere() {
        let mut a = genesis(&ProjectId("p".into()));
        let mut b = genesis(&ProjectId("p".into()));
        assert_eq!(a.get_heads(), b.get_heads());
        let ids: Vec<String> = columns(&a).into_iter().map(|c| c.id).collect();
        assert_eq!(ids, DEFAULT_COLUMNS);
        assert!(columns(&a)[2].done);
        assert_eq!(project_of(&a), Some(ProjectId("p".into())));
    }

    #[test]
    fn create_edit_move_and_read_back() {
        let mut d = board(1, 1);
        let mut t = new_task("t1", "  写周报 ", "todo", 1.0);
        t.assignees = vec![UserId(2)];
        t.labels = vec!["文档".into()];
        create(&mut d, &t, 5_000).unwrap();
        validate(&last(&mut d), UserId(1), MEMBER).unwrap();
        edit(&mut d, "t1", Edit::Move("doing".into(), 3.0), 6_000).unwrap();
        edit(&mut d, "t1", Edit::Assign(UserId(3), true), 7_000).unwrap();
        edit(&mut d, "t1", Edit::CheckAdd { id: "i1".into(), text: "收集数据".into(), order: 1.0 }, 8_000).unwrap();
        edit(&mut d, "t1", Edit::CheckDone("i1".into(), true), 9_000).unwrap();
        validate(&last(&mut d), UserId(1), MEMBER).unwrap();
        let got = task(&d, "t1").unwrap();
        assert_eq!(got.title, "写周报");
        assert_eq!(got.column, "doing");
        assert_eq!(got.assignees, vec![UserId(2), UserId(3)]);
        assert_eq!(got.labels, vec!["文档".to_string()]);
        assert_eq!(got.checklist.len(), 1);
        assert!(got.checklist[0].done);
        assert_eq!(create(&mut d, &new_task("t2", "  ", "todo", 1.0), 1), Err(TaskError::Title));
        assert_eq!(edit(&mut d, "t1", Edit::Move("nowhere".into(), 1.0), 1), Err(TaskError::NoColumn));
        assert_eq!(edit(&mut d, "nope", Edit::Title("x".into()), 1), Err(TaskError::NoTask));
    }

    #[test]
    fn concurrent_moves_of_one_card_end_in_one_column_everywhere() {
        let mut a = board(1, 1);
        create(&mut a, &new_task("t1", "card", "todo", 1.0), 1_000).unwrap();
        let mut b = a.fork().with_actor(actor_for(UserId(2), [2; 8]));
        edit(&mut a, "t1", Edit::Move("doing".into(), 1.0), 2_000).unwrap();
        edit(&mut b, "t1", Edit::Move("done".into(), 5.0), 2_000).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let (ta, tb) = (tasks(&a), tasks(&b));
        assert_eq!(ta, tb);
        assert_eq!(ta.len(), 1, "neither lost nor duplicated");
        assert!(ta[0].column == "doing" || ta[0].column == "done");
    }

    #[test]
    fn tasks_created_offline_on_two_devices_all_survive_and_order_agrees() {
        let mut a = board(1, 1);
        let mut b = board(2, 2);
        for i in 0..20 {
            create(&mut a, &new_task(&format!("a{i}"), "from a", "todo", i as f64), 1_000).unwrap();
            create(&mut b, &new_task(&format!("b{i}"), "from b", "todo", i as f64), 1_000).unwrap();
        }
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        assert_eq!(tasks(&a).len(), 40);
        assert_eq!(tasks(&a), tasks(&b));
    }

    #[test]
    fn a_removed_column_sends_its_tasks_to_the_first() {
        let mut d = board(1, 1);
        add_column(&mut d, "review", "评审", 1_000).unwrap();
        create(&mut d, &new_task("t1", "x", "review", 1.0), 1_000).unwrap();
        assert_eq!(columns(&d).last().unwrap().name, "评审");
        remove_column(&mut d, "review", 2_000).unwrap();
        assert_eq!(tasks(&d)[0].column, "todo");
    }

    #[test]
    fn comments_name_their_author_and_the_relay_can_tell() {
        let mut d = board(2, 1);
        create(&mut d, &new_task("t1", "x", "todo", 1.0), 1_000).unwrap();
        add_comment(&mut d, "t1", UserId(2), "看一下", "n1", 2_000).unwrap();
        validate(&last(&mut d), UserId(2), MEMBER).unwrap();
        assert_eq!(comments(&d, "t1")[0].author, UserId(2));
        assert_eq!(comment_counts(&d).get("t1"), Some(&1));
        // Under user 2's actor but claiming user 3 wrote it.
        add_comment(&mut d, "t1", UserId(3), "forged", "n2", 3_000).unwrap();
        assert_eq!(validate(&last(&mut d), UserId(2), MEMBER), Err(Violation::Impersonation));
        // Removing someone else's comment takes moderation.
        let key = comments(&d, "t1")[0].key.clone();
        let mut e = d.fork().with_actor(actor_for(UserId(4), [4; 8]));
        let m = map_at(&e, &ROOT, "comments").unwrap();
        e.delete(&m, key.as_str()).unwrap();
        e.commit();
        let ch = last(&mut e);
        assert_eq!(validate(&ch, UserId(4), MEMBER), Err(Violation::OthersComment));
        assert!(validate(&ch, UserId(4), Powers { moderate: true }).is_ok());
    }

    #[test]
    fn the_root_and_the_task_map_are_guarded() {
        let mut d = board(1, 1);
        create(&mut d, &new_task("t1", "x", "todo", 1.0), 1_000).unwrap();
        d.put(ROOT, "kind", "chat-segment").unwrap();
        d.commit();
        assert_eq!(validate(&last(&mut d), UserId(1), MEMBER), Err(Violation::Root));
        let tm = map_at(&d, &ROOT, "tasks").unwrap();
        d.delete(&tm, "t1").unwrap();
        d.commit();
        assert_eq!(validate(&last(&mut d), UserId(1), MEMBER), Err(Violation::Shape));
    }

    #[test]
    fn history_says_who_changed_what() {
        let mut d = board(1, 1);
        create(&mut d, &new_task("t1", "draft", "todo", 1.0), 1_000_000).unwrap();
        create(&mut d, &new_task("t2", "other", "todo", 2.0), 1_000_000).unwrap();
        let mut b = d.fork().with_actor(actor_for(UserId(2), [2; 8]));
        edit(&mut b, "t1", Edit::Move("doing".into(), 2.0), 2_000_000).unwrap();
        edit(&mut b, "t1", Edit::Assign(UserId(5), true), 3_000_000).unwrap();
        edit(&mut b, "t2", Edit::Title("not this one".into()), 3_000_000).unwrap();
        add_comment(&mut b, "t1", UserId(2), "ok", "n", 4_000_000).unwrap();
        edit(&mut b, "t1", Edit::Title("final".into()), 5_000_000).unwrap();
        d.merge(&mut b).unwrap();
        let h = history(&mut d, "t1");
        let lines: Vec<(Option<i64>, &str, &str)> =
            h.iter().map(|e| (e.user.map(|u| u.0), e.field.as_str(), e.value.as_str())).collect();
        assert_eq!(
            lines,
            vec![
                (Some(1), "created", ""),
                (Some(2), "column", "doing"),
                (Some(2), "assignees", "+5"),
                (Some(2), "comment", ""),
                (Some(2), "title", "final"),
            ]
        );
        assert_eq!(h[1].ts, 2_000);
    }
}
