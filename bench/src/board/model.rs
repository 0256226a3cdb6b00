//! `qiao-bench board model`: what the board costs in the model, natively (release), beside the
//! same tasks held as plain structs and stored as JSON.
//!
//! | figure | Qiao (Automerge board) | peer (plain structs + serde_json) |
//! |---|---|---|
//! | load | genesis + `load_incremental(bytes)`, as the app opens a board from IndexedDB | `from_slice` of the board's JSON |
//! | read | `tasks::tasks()`: every task in board order | clone and sort the `Vec` into board order |
//! | move | one `Edit::Move` (read, write two fields, commit) | find the task, set two fields |
//! | the app's move | `tasks::tasks()` for the new order, then `Edit::Move` | sort, find, set |
//! | save | `save()` of the whole document | `to_vec` of the whole board |
//!
//! Every figure is the median of `--reps` runs (p95 beside it); a move runs on a fresh copy of
//! the board each time. The peer holds what the board shows (columns, tasks, comments) and none
//! of its history, which is exactly the difference the ratios show. Two more figures say where
//! the time goes: `AutoCommit::load` of the same bytes (the app starts from the genesis and loads
//! incrementally), and [`tasks_one_pass`], which reads the same tasks another way.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks::{self, CheckItem, Edit, Task};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::Error;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory holding `board.automerge` (as `board seed --out` wrote it).
    #[arg(long)]
    board: PathBuf,
    /// Runs of each figure.
    #[arg(long, default_value_t = 25)]
    reps: usize,
}

#[derive(Clone, Serialize, Deserialize)]
struct PlainColumn {
    id: String,
    name: String,
    order: f64,
    done: bool,
}

#[derive(Clone, Serialize, Deserialize)]
struct PlainCheck {
    id: String,
    text: String,
    done: bool,
    order: f64,
}

#[derive(Clone, Serialize, Deserialize)]
struct PlainTask {
    id: String,
    title: String,
    description: String,
    column: String,
    order: f64,
    priority: u8,
    due: Option<i64>,
    remind_at: Option<i64>,
    link: String,
    created_by: i64,
    created_at: i64,
    deleted: bool,
    assignees: Vec<i64>,
    labels: Vec<String>,
    checklist: Vec<PlainCheck>,
}

#[derive(Clone, Serialize, Deserialize)]
struct PlainComment {
    task: String,
    author: i64,
    ts: i64,
    text: String,
}

#[derive(Clone, Serialize, Deserialize)]
struct PlainBoard {
    columns: Vec<PlainColumn>,
    tasks: Vec<PlainTask>,
    comments: Vec<PlainComment>,
}

fn plain(doc: &AutoCommit) -> PlainBoard {
    let columns: Vec<PlainColumn> = tasks::columns(doc)
        .into_iter()
        .map(|c| PlainColumn { id: c.id, name: c.name, order: c.order, done: c.done })
        .collect();
    let all = tasks::tasks(doc);
    let mut comments = Vec::new();
    for t in &all {
        for c in tasks::comments(doc, &t.id) {
            comments.push(PlainComment { task: c.task, author: c.author.0, ts: c.ts, text: c.text });
        }
    }
    let tasks = all
        .into_iter()
        .map(|t| PlainTask {
            id: t.id,
            title: t.title,
            description: t.description,
            column: t.column,
            order: t.order,
            priority: t.priority,
            due: t.due,
            remind_at: t.remind_at,
            link: t.link,
            created_by: t.created_by.0,
            created_at: t.created_at,
            deleted: t.deleted,
            assignees: t.assignees.iter().map(|u| u.0).collect(),
            labels: t.labels,
            checklist: t
                .checklist
                .into_iter()
                .map(|c| PlainCheck { id: c.id, text: c.text, done: c.done, order: c.order })
                .collect(),
        })
        .collect();
    PlainBoard { columns, tasks, comments }
}

/// The board order of the plain tasks, as `tasks::tasks` gives it for the document.
fn plain_tasks(b: &PlainBoard) -> Vec<PlainTask> {
    let rank: HashMap<&str, usize> = b.columns.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut out: Vec<PlainTask> = b.tasks.iter().filter(|t| !t.deleted).cloned().collect();
    out.sort_by(|x, y| {
        rank.get(x.column.as_str())
            .cmp(&rank.get(y.column.as_str()))
            .then(x.order.total_cmp(&y.order))
            .then_with(|| x.id.cmp(&y.id))
    });
    out
}

/// `tasks::tasks`, reading each task's object with one `map_range` (and one per nested map)
/// instead of one `get` per field. Not the app's code: a measurement of where `tasks::tasks`
/// spends its time (each `get` seeks the key in Automerge's compressed op columns anew). The run
/// checks that it returns exactly what `tasks::tasks` does.
fn tasks_one_pass(doc: &AutoCommit) -> Vec<Task> {
    fn int(s: &ScalarValue) -> i64 {
        match s {
            ScalarValue::Int(i) => *i,
            ScalarValue::Uint(u) => *u as i64,
            ScalarValue::F64(f) => *f as i64,
            _ => 0,
        }
    }
    fn float(s: &ScalarValue) -> f64 {
        match s {
            ScalarValue::F64(f) => *f,
            ScalarValue::Int(i) => *i as f64,
            ScalarValue::Uint(u) => *u as f64,
            _ => 0.0,
        }
    }
    fn text(s: &ScalarValue) -> String {
        match s {
            ScalarValue::Str(s) => s.to_string(),
            _ => String::new(),
        }
    }
    fn true_keys(doc: &AutoCommit, obj: &ObjId) -> Vec<String> {
        doc.map_range(obj, ..)
            .filter(|i| matches!(Value::from(i.value.clone()), Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Boolean(true))))
            .map(|i| i.key.to_string())
            .collect()
    }
    let Ok(Some((Value::Object(ObjType::Map), tasks_obj))) = doc.get(ROOT, "tasks") else { return Vec::new() };
    let cols = tasks::columns(doc);
    let first = cols.first().map(|c| c.id.clone()).unwrap_or_default();
    let rank: HashMap<&str, usize> = cols.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut out = Vec::new();
    for item in doc.map_range(&tasks_obj, ..) {
        if !matches!(Value::from(item.value.clone()), Value::Object(ObjType::Map)) {
            continue;
        }
        let mut t = Task { id: item.key.to_string(), ..Default::default() };
        for f in doc.map_range(item.id(), ..) {
            match Value::from(f.value.clone()) {
                Value::Scalar(s) => {
                    let s = s.as_ref();
                    match f.key.as_ref() {
                        "title" => t.title = text(s),
                        "description" => t.description = text(s),
                        "column" => t.column = text(s),
                        "order" => t.order = float(s),
                        "priority" => t.priority = int(s).clamp(0, 3) as u8,
                        "due" => t.due = Some(int(s)).filter(|v| *v > 0),
                        "remind_at" => t.remind_at = Some(int(s)).filter(|v| *v > 0),
                        "link" => t.link = text(s),
                        "created_by" => t.created_by = UserId(int(s)),
                        "created_at" => t.created_at = int(s),
                        "deleted" => t.deleted = matches!(s, ScalarValue::Boolean(true)),
                        _ => {}
                    }
                }
                Value::Object(ObjType::Map) => {
                    let o = f.id();
                    match f.key.as_ref() {
                        "assignees" => {
                            t.assignees =
                                true_keys(doc, &o).iter().filter_map(|k| k.parse().ok()).map(UserId).collect();
                            t.assignees.sort();
                        }
                        "labels" => t.labels = true_keys(doc, &o),
                        "checklist" => {
                            for c in doc.map_range(&o, ..) {
                                if !matches!(Value::from(c.value.clone()), Value::Object(ObjType::Map)) {
                                    continue;
                                }
                                let mut ci =
                                    CheckItem { id: c.key.to_string(), text: String::new(), done: false, order: 0.0 };
                                for g in doc.map_range(c.id(), ..) {
                                    if let Value::Scalar(s) = Value::from(g.value.clone()) {
                                        match g.key.as_ref() {
                                            "text" => ci.text = text(s.as_ref()),
                                            "done" => ci.done = matches!(s.as_ref(), ScalarValue::Boolean(true)),
                                            "order" => ci.order = float(s.as_ref()),
                                            _ => {}
                                        }
                                    }
                                }
                                t.checklist.push(ci);
                            }
                            t.checklist.sort_by(|a, b| a.order.total_cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if t.deleted {
            continue;
        }
        if !rank.contains_key(t.column.as_str()) {
            t.column = first.clone();
        }
        out.push(t);
    }
    out.sort_by(|a, b| {
        rank.get(a.column.as_str())
            .cmp(&rank.get(b.column.as_str()))
            .then(a.order.total_cmp(&b.order))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// Median and p95 (nearest rank) of `reps` timings of `f`, after one untimed warm-up run.
fn time<T>(reps: usize, mut f: impl FnMut(usize) -> (Duration, T)) -> serde_json::Value {
    let _ = f(usize::MAX);
    let mut t: Vec<Duration> = (0..reps).map(|i| f(i).0).collect();
    t.sort();
    let q = |p: f64| t[((p * t.len() as f64).ceil() as usize).clamp(1, t.len()) - 1].as_secs_f64() * 1000.0;
    serde_json::json!({ "p50_ms": q(0.5), "p95_ms": q(0.95) })
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let s = Instant::now();
    let out = f();
    (s.elapsed(), out)
}

pub fn run(a: Args) -> Result<serde_json::Value, Error> {
    let reps = a.reps.max(1);
    let bytes = std::fs::read(super::board_file(&a.board))?;
    let mut doc = AutoCommit::load(&bytes).map_err(|e| Error::msg(format!("the board does not load: {e}")))?;
    let project = tasks::project_of(&doc).ok_or_else(|| Error::msg("not a project board"))?;
    let all = tasks::tasks(&doc);
    let todo: Vec<String> = all.iter().filter(|t| t.column == "todo").map(|t| t.id.clone()).collect();
    if todo.is_empty() {
        return Err(Error::msg("no task in 待办 to move"));
    }
    let board = plain(&doc);
    let json = serde_json::to_vec(&board).map_err(|e| Error::msg(format!("json: {e}")))?;
    let changes = doc.get_changes(&[]).len();
    eprintln!(
        "board model: {} tasks, {changes} changes, {} KiB as Automerge, {} KiB as JSON; {reps} runs each",
        all.len(),
        bytes.len() / 1024,
        json.len() / 1024
    );
    let genesis = |p: &ProjectId| tasks::genesis(p);

    // The app's path from IndexedDB: genesis, then the stored bytes loaded incrementally.
    let load = time(reps, |_| {
        timed(|| {
            let mut d = genesis(&project);
            d.load_incremental(&bytes).expect("loads");
            d
        })
    });
    let load_whole = time(reps, |_| timed(|| AutoCommit::load(&bytes).expect("loads")));
    let read = time(reps, |_| timed(|| tasks::tasks(&doc)));
    if tasks_one_pass(&doc) != all {
        return Err(Error::msg("the one-pass reader disagrees with tasks::tasks"));
    }
    let read_one_pass = time(reps, |_| timed(|| tasks_one_pass(&doc)));
    let moved = time(reps, |i| {
        let mut d = doc.clone();
        let id = &todo[if i == usize::MAX { 0 } else { i % todo.len() }];
        timed(|| tasks::edit(&mut d, id, Edit::Move("doing".into(), 1e9), 1_800_000_000_000).expect("moves"))
    });
    // The app's keyboard move: `tasks::tasks` to find the new neighbours, then the edit.
    let moved_app = time(reps, |i| {
        let mut d = doc.clone();
        let id = &todo[if i == usize::MAX { 0 } else { i % todo.len() }];
        timed(|| {
            let all = tasks::tasks(&d);
            let last = all.iter().rev().find(|t| t.column == "doing").map(|t| t.order);
            let order = tasks::order_between(last, None);
            tasks::edit(&mut d, id, Edit::Move("doing".into(), order), 1_800_000_000_000).expect("moves")
        })
    });
    let mut save_doc = doc.clone();
    let save = time(reps, |_| timed(|| save_doc.save()));

    let p_load = time(reps, |_| timed(|| serde_json::from_slice::<PlainBoard>(&json).expect("parses")));
    let p_read = time(reps, |_| timed(|| plain_tasks(&board)));
    let p_move = time(reps, |i| {
        let mut b = board.clone();
        let id = &todo[if i == usize::MAX { 0 } else { i % todo.len() }];
        timed(|| {
            if let Some(t) = b.tasks.iter_mut().find(|t| &t.id == id) {
                t.column = "doing".into();
                t.order = 1e9;
            }
        })
    });
    let p_move_app = time(reps, |i| {
        let mut b = board.clone();
        let id = &todo[if i == usize::MAX { 0 } else { i % todo.len() }];
        timed(|| {
            let all = plain_tasks(&b);
            let last = all.iter().rev().find(|t| t.column == "doing").map(|t| t.order);
            let order = tasks::order_between(last, None);
            if let Some(t) = b.tasks.iter_mut().find(|t| &t.id == id) {
                t.column = "doing".into();
                t.order = order;
            }
        })
    });
    let p_save = time(reps, |_| timed(|| serde_json::to_vec(&board).expect("serialises")));

    Ok(serde_json::json!({
        "tasks": all.len(),
        "changes": changes,
        "reps": reps,
        "automerge": {
            "bytes": bytes.len(),
            "load": load,
            "load_whole": load_whole,
            "tasks": read,
            "tasks_one_pass": read_one_pass,
            "move": moved,
            "move_app": moved_app,
            "save": save,
        },
        "plain": {
            "bytes": json.len(),
            "load": p_load,
            "tasks": p_read,
            "move": p_move,
            "move_app": p_move_app,
            "save": p_save,
        },
    }))
}
