//! Tasks and projects (任务管理 · 项目任务看板).
//!
//! Each project's board is one Automerge document ([`qiao_model::schema::tasks`]), opened from
//! IndexedDB at start like every other document, so the board, "my tasks" and reminders work
//! offline and merge when the network returns. The project list (and who is in each project) is
//! the relay's: it is fetched when online and cached for offline starts; creating a project or
//! changing its members needs the network, as creating a conversation does.
//!
//! - [`Projects`] (in context): the list, the open project or "my tasks", the open task;
//! - [`page::TasksPage`]: the project rail beside the board ([`board`]) or list ([`list_view`]),
//!   or "my tasks" across projects ([`my_tasks`]); the task panel ([`task_detail`]);
//! - [`reminders`]: fires a task's reminder once per device, in the app and as a system
//!   notification, from the local copy (a reminder set offline fires offline).

pub mod attachments;
pub mod board;
pub mod from_message;
pub mod list_view;
pub mod members_dialog;
pub mod my_tasks;
pub mod page;
pub mod project_dialog;
pub mod reminders;
pub mod task_detail;

use crate::api;
use crate::contexts::RepoRef;
use crate::i18n::I18n;
use crate::storage;
use crate::sync::repo::ConnStatus;
use leptos::prelude::*;
use qiao_model::api::{Member, ProjectSummary};
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks::{self, Column, Task};

/// A board as read: its columns and its tasks in board order.
pub type BoardData = std::rc::Rc<(Vec<Column>, Vec<Task>)>;

/// Board or list, for the open project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Board,
    List,
}

#[derive(Clone, Copy)]
pub struct Projects {
    pub list: RwSignal<Vec<ProjectSummary>>,
    /// The open project; `None` shows "my tasks".
    pub selected: RwSignal<Option<ProjectId>>,
    /// The task in the side panel.
    pub open_task: RwSignal<Option<(ProjectId, String)>>,
    pub view: RwSignal<View>,
    /// Members of each project, as last fetched (cached for offline).
    pub members: RwSignal<std::collections::HashMap<ProjectId, Vec<Member>>>,
    /// A chat message being turned into a task (the dialog is open while set).
    pub from_message: RwSignal<Option<from_message::FromMessage>>,
    /// Each board's columns and tasks as last read, by document version: the board, the list,
    /// my tasks, the sidebar's badge and the reminders all read the same board after each change,
    /// and reading a large board is the expensive part (see the board benchmark).
    cache: StoredValue<std::collections::HashMap<ProjectId, (u64, BoardData)>, LocalStorage>,
    repo: RepoRef,
}

impl Projects {
    /// Load the cached list, open every board, and refresh from the relay whenever it connects.
    pub fn provide(repo: RepoRef) -> Projects {
        let list = storage::get_json::<Vec<ProjectSummary>>("qiao.projects").unwrap_or_default();
        let members = storage::get_json("qiao.project_members").unwrap_or_default();
        let selected = storage::get("qiao.project").map(ProjectId).filter(|p| list.iter().any(|x| &x.id == p));
        let p = Projects {
            list: RwSignal::new(list),
            selected: RwSignal::new(selected),
            open_task: RwSignal::new(None),
            view: RwSignal::new(if storage::get("qiao.tasks_view").as_deref() == Some("list") {
                View::List
            } else {
                View::Board
            }),
            members: RwSignal::new(members),
            from_message: RwSignal::new(None),
            cache: StoredValue::new_local(std::collections::HashMap::new()),
            repo,
        };
        provide_context(p);
        let status = repo.with_value(|r| r.status);
        Effect::new(move |_| {
            if status.get() == ConnStatus::Online {
                leptos::task::spawn_local(p.refresh());
            }
        });
        // Projects others add us to show up within a minute while online.
        let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            if status.try_get_untracked() == Some(ConnStatus::Online) {
                leptos::task::spawn_local(p.refresh());
            }
        });
        if let Some(w) = web_sys::window() {
            use wasm_bindgen::JsCast;
            let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(cb.as_ref().unchecked_ref(), 60_000);
        }
        cb.forget();
        // Every board is opened (from IndexedDB first): my tasks and reminders span them all.
        Effect::new(move |_| {
            let ids: Vec<ProjectId> = p.list.with(|l| l.iter().map(|x| x.id.clone()).collect());
            let r = repo.get_value();
            leptos::task::spawn_local(async move {
                for id in ids {
                    let g = id.clone();
                    r.open(tasks::board_id(&id), move || tasks::genesis(&g)).await;
                }
            });
        });
        p
    }

    pub async fn refresh(self) {
        let Ok(list) = api::get::<Vec<ProjectSummary>>("/api/projects").await else { return };
        let gone: Vec<ProjectId> = self
            .list
            .get_untracked()
            .into_iter()
            .filter(|p| !list.iter().any(|n| n.id == p.id))
            .map(|p| p.id)
            .collect();
        let repo = self.repo.get_value();
        for id in gone {
            repo.forget(tasks::board_id(&id)).await;
        }
        storage::set_json("qiao.projects", &list);
        if self.list.get_untracked() != list {
            self.list.set(list.clone());
        }
        if let Some(s) = self.selected.get_untracked()
            && !list.iter().any(|p| p.id == s)
        {
            self.selected.set(None);
        }
        for p in list {
            self.load_members(p.id).await;
        }
    }

    pub async fn load_members(self, id: ProjectId) {
        if let Ok(m) = api::get::<Vec<Member>>(&format!("/api/projects/{id}/members")).await {
            self.members.update(|all| {
                all.insert(id, m);
            });
            storage::set_json("qiao.project_members", &self.members.get_untracked());
        }
    }

    pub fn select(&self, id: Option<ProjectId>) {
        match &id {
            Some(p) => storage::set("qiao.project", p.as_str()),
            None => storage::remove("qiao.project"),
        }
        self.selected.set(id);
    }

    pub fn add(&self, p: ProjectSummary) {
        let id = p.id.clone();
        self.list.update(|l| {
            if !l.iter().any(|x| x.id == p.id) {
                l.push(p);
            }
        });
        storage::set_json("qiao.projects", &self.list.get_untracked());
        self.select(Some(id.clone()));
        leptos::task::spawn_local(self.load_members(id));
    }

    pub fn summary(&self, id: &ProjectId) -> Option<ProjectSummary> {
        self.list.with(|l| l.iter().find(|p| &p.id == id).cloned())
    }

    pub fn set_view(&self, v: View) {
        storage::set("qiao.tasks_view", if v == View::List { "list" } else { "board" });
        self.view.set(v);
    }

    /// The board of `id` (tracked: re-runs when it changes). `None` before it is open.
    pub fn board<R>(&self, id: &ProjectId, f: impl FnOnce(&automerge::AutoCommit) -> R) -> Option<R> {
        self.repo.with_value(|r| r.read(tasks::board_id(id), f))
    }

    /// The columns and tasks of `id` (tracked), read once per version of the board and shared.
    pub fn data(&self, id: &ProjectId) -> Option<BoardData> {
        let doc = tasks::board_id(id);
        let version = self.repo.with_value(|r| r.version(doc))?;
        if let Some(hit) = self.cache.with_value(|c| c.get(id).filter(|(v, _)| *v == version).map(|(_, d)| d.clone())) {
            return Some(hit);
        }
        let data: BoardData = self
            .repo
            .with_value(|r| r.read_untracked(doc, |d| std::rc::Rc::new((tasks::columns(d), tasks::tasks(d)))))?;
        self.cache.update_value(|c| {
            c.insert(id.clone(), (version, data.clone()));
        });
        Some(data)
    }

    /// Change the board of `id` (persisted to IndexedDB, then synced).
    pub fn change<T>(
        &self,
        id: &ProjectId,
        f: impl FnOnce(&mut automerge::AutoCommit) -> Result<T, tasks::TaskError>,
    ) -> Option<Result<T, tasks::TaskError>> {
        self.repo.with_value(|r| r.change(tasks::board_id(id), f))
    }
}

pub fn expect_projects() -> Projects {
    expect_context::<Projects>()
}

pub use crate::storage::now_ms;

/// A fresh random id for a task, column or checklist item (unique enough offline: 64 bits).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", crate::storage::random_hex::<8>())
}

/// A column's name in the reader's language (genesis columns have none of their own).
pub fn column_name(i18n: I18n, c: &Column) -> String {
    if c.name.is_empty() { i18n.t(&format!("tasks.column.{}", c.id)) } else { c.name.clone() }
}

/// Whether `task` is past due and not finished.
pub fn overdue(cols: &[Column], task: &Task, now: i64) -> bool {
    task.due.is_some_and(|d| d < now) && !tasks::is_done(cols, task)
}

/// Local `M月D日 HH:MM` (or `MM-DD HH:MM` in English) for a due time.
pub fn format_due(i18n: I18n, ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let (mo, day, h, mi) = (d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes());
    let now = js_sys::Date::new_0();
    let year = if d.get_full_year() != now.get_full_year() { format!("{}-", d.get_full_year()) } else { String::new() };
    i18n.tf(
        "tasks.due_format",
        &[("y", year), ("m", mo.to_string()), ("d", day.to_string()), ("hm", format!("{h:02}:{mi:02}"))],
    )
}

/// `YYYY-MM-DDTHH:MM` in local time, for `<input type="datetime-local">`.
pub fn to_input_value(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// The value of a `datetime-local` input as unix ms (local time), `None` when empty or invalid.
pub fn from_input_value(v: &str) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(v)).get_time();
    ms.is_finite().then_some(ms as i64)
}

/// Initials for an avatar: the first character of the name.
pub fn initial(name: &str) -> String {
    name.chars().next().map(String::from).unwrap_or_else(|| "?".into())
}

/// The name of `user`, from the project's members or the directory.
pub fn person_name(projects: Projects, project: &ProjectId, user: UserId) -> String {
    let from_members = projects
        .members
        .with(|m| m.get(project).and_then(|l| l.iter().find(|x| x.id == user).map(|x| x.display_name.clone())));
    from_members
        .or_else(|| use_context::<crate::features::chat::people::People>().and_then(|p| p.name_of(user)))
        .unwrap_or_else(|| format!("#{}", user.0))
}
