//! The kanban board (看板): columns left to right, cards top to bottom.
//!
//! Moving a card writes its column and one fractional `order` between its new neighbours
//! ([`tasks::order_between`]), never its neighbours' positions, so concurrent moves touch
//! different registers and merge cleanly. Cards move by drag and drop (HTML5: a drop on a card
//! places the dragged card before it, a drop on the column's free space at its end) or by
//! keyboard on a focused card: Shift+←/→ to the neighbouring column, Shift+↑/↓ within the
//! column, Enter to open. Non-members see the board without any of this.

use super::{Projects, column_name, expect_projects, format_due, initial, new_id, now_ms, overdue, person_name};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks::{self, Column, Edit, Task};
use std::collections::HashMap;
use wasm_bindgen::JsCast;

/// Place `id` in `column` before `before` (a task id) or at the end; writes one change.
pub fn move_task(projects: Projects, project: &ProjectId, id: &str, column: &str, before: Option<&str>) {
    let Some(data) = projects.data(project) else { return };
    let all = &data.1;
    let col: Vec<&Task> = all.iter().filter(|t| t.column == column && t.id != id).collect();
    let order = match before.and_then(|b| col.iter().position(|t| t.id == b)) {
        Some(i) => tasks::order_between(i.checked_sub(1).map(|j| col[j].order), Some(col[i].order)),
        None => tasks::order_between(col.last().map(|t| t.order), None),
    };
    let (id, column) = (id.to_string(), column.to_string());
    projects.change(project, move |d| tasks::edit(d, &id, Edit::Move(column, order), now_ms()));
}

/// Move `id` one place up (`-1`) or down (`1`) within its column.
fn shift_in_column(projects: Projects, project: &ProjectId, id: &str, step: i32) {
    let Some(data) = projects.data(project) else { return };
    let all = &data.1;
    let Some(me) = all.iter().find(|t| t.id == id) else { return };
    let col: Vec<&Task> = all.iter().filter(|t| t.column == me.column).collect();
    let Some(i) = col.iter().position(|t| t.id == id) else { return };
    let order = if step < 0 {
        if i == 0 {
            return;
        }
        tasks::order_between(i.checked_sub(2).map(|j| col[j].order), Some(col[i - 1].order))
    } else {
        if i + 1 >= col.len() {
            return;
        }
        tasks::order_between(Some(col[i + 1].order), col.get(i + 2).map(|t| t.order))
    };
    let (id, column) = (id.to_string(), me.column.clone());
    projects.change(project, move |d| tasks::edit(d, &id, Edit::Move(column, order), now_ms()));
}

/// Keep the keyboard focus on the card of `id` while the board re-renders it (the moved card is
/// a new element, and under load the re-render can come frames later): for the next 30 frames,
/// whenever focus is not on a live card with that id, focus it.
pub fn refocus(id: String) {
    refocus_frames(id, 30);
}

fn refocus_frames(id: String, left: u32) {
    let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        let active = doc.active_element();
        let on_card = active
            .as_ref()
            .is_some_and(|a| a.is_connected() && a.get_attribute("data-task-id").as_deref() == Some(id.as_str()));
        // Focus went somewhere else (a field, a button): the person moved on; stop.
        let on_body = active.as_ref().is_none_or(|a| a.tag_name() == "BODY");
        if !on_card && !on_body {
            return;
        }
        if !on_card
            && let Some(el) = doc
                .query_selector(&format!("[data-task-id=\"{id}\"]"))
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
        if left > 0 {
            refocus_frames(id, left - 1);
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

#[component]
pub fn Board(project: ProjectId, editable: bool) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let p = project.clone();
    let columns = Memo::new(move |_| projects.data(&p).map(|d| d.0.clone()).unwrap_or_default());
    let p = project.clone();
    let all = Memo::new(move |_| projects.data(&p).map(|d| d.1.clone()).unwrap_or_default());
    let p = project.clone();
    let comment_counts = Memo::new(move |_| projects.board(&p, |d| tasks::comment_counts(d)).unwrap_or_default());
    let dragging = RwSignal::new(None::<String>);
    let drop_before = RwSignal::new(None::<String>);
    let drop_column = RwSignal::new(None::<String>);
    let adding_column = RwSignal::new(false);
    let new_column = RwSignal::new(String::new());

    let p = StoredValue::new(project.clone());
    let add_column = move || {
        let name = new_column.get_untracked();
        if name.trim().is_empty() {
            adding_column.set(false);
            return;
        }
        let id = new_id("col");
        projects.change(&p.get_value(), move |d| tasks::add_column(d, &id, &name, now_ms()));
        new_column.set(String::new());
    };

    let project_for_cols = project.clone();
    view! {
        <div class="board" data-testid="board" class:board-readonly=!editable>
            <For
                each=move || columns.get()
                key=|c| (c.id.clone(), c.name.clone())
                children=move |c: Column| {
                    let project = project_for_cols.clone();
                    let cid = c.id.clone();
                    let cid2 = c.id.clone();
                    let cid3 = c.id.clone();
                    let col_tasks = Memo::new(move |_| {
                        all.with(|a| a.iter().filter(|t| t.column == cid).cloned().collect::<Vec<Task>>())
                    });
                    let name = column_name(i18n, &c);
                    let renaming = RwSignal::new(false);
                    let rename_value = RwSignal::new(name.clone());
                    let p_drop = project.clone();
                    let p_rename = project.clone();
                    let p_delete = project.clone();
                    let p_cards = project.clone();
                    let p_add = project.clone();
                    let col_done = c.done;
                    let cid_drop = c.id.clone();
                    let cid_rename = c.id.clone();
                    let cid_delete = c.id.clone();
                    let cid_add = c.id.clone();
                    view! {
                        <section
                            class="board-column"
                            class:drop-target=move || drop_column.get().as_deref() == Some(cid2.as_str())
                            data-testid="board-column"
                            data-column-id=c.id.clone()
                            data-column-name=name.clone()
                            on:dragover=move |ev: web_sys::DragEvent| {
                                if editable && dragging.with_untracked(|d| d.is_some()) {
                                    ev.prevent_default();
                                    if drop_column.get_untracked().as_deref() != Some(cid3.as_str()) {
                                        drop_column.set(Some(cid3.clone()));
                                    }
                                }
                            }
                            on:drop=move |ev: web_sys::DragEvent| {
                                ev.prevent_default();
                                let id = ev
                                    .data_transfer()
                                    .and_then(|dt| dt.get_data("text/plain").ok())
                                    .filter(|s| !s.is_empty())
                                    .or_else(|| dragging.get_untracked());
                                if let Some(id) = id {
                                    let before = drop_before.get_untracked();
                                    move_task(projects, &p_drop, &id, &cid_drop, before.as_deref().filter(|b| *b != id));
                                }
                                dragging.set(None);
                                drop_before.set(None);
                                drop_column.set(None);
                            }
                        >
                            <header class="board-column-header">
                                <Show
                                    when=move || renaming.get()
                                    fallback=move || {
                                        let name = rename_value.get();
                                        view! {
                                            <h3
                                                class="board-column-title"
                                                class:column-done=col_done
                                                title=move || if editable { i18n.t("tasks.rename_column_hint") } else { String::new() }
                                                on:dblclick=move |_| if editable { renaming.set(true) }
                                            >{name}</h3>
                                        }
                                    }
                                >
                                    {
                                        let p = p_rename.clone();
                                        let cid = cid_rename.clone();
                                        view! {
                                            <input
                                                class="input input-sm"
                                                data-testid="column-rename"
                                                prop:value=move || rename_value.get()
                                                on:input=move |ev| rename_value.set(event_target_value(&ev))
                                                on:keydown=move |ev| {
                                                    if ev.key() == "Enter" {
                                                        let v = rename_value.get_untracked();
                                                        let cid = cid.clone();
                                                        projects.change(&p, move |d| tasks::rename_column(d, &cid, &v, now_ms()));
                                                        renaming.set(false);
                                                    } else if ev.key() == "Escape" {
                                                        renaming.set(false);
                                                    }
                                                }
                                            />
                                        }
                                    }
                                </Show>
                                <span class="board-column-count">{move || col_tasks.with(|t| t.len())}</span>
                                <Show when=move || editable && columns.with(|c| c.len() > 1)>
                                    {
                                        let p = p_delete.clone();
                                        let cid = cid_delete.clone();
                                        view! {
                                            <button
                                                class="icon-btn icon-btn-sm board-column-remove"
                                                title=move || i18n.t("tasks.remove_column")
                                                aria-label=move || i18n.t("tasks.remove_column")
                                                on:click=move |_| {
                                                    let ok = web_sys::window()
                                                        .and_then(|w| w.confirm_with_message(&i18n.t("tasks.remove_column_confirm")).ok())
                                                        .unwrap_or(false);
                                                    if ok {
                                                        let cid = cid.clone();
                                                        projects.change(&p, move |d| tasks::remove_column(d, &cid, now_ms()));
                                                    }
                                                }
                                            >"×"</button>
                                        }
                                    }
                                </Show>
                            </header>
                            <div class="board-cards">
                                <For
                                    each=move || col_tasks.get()
                                    key=|t| format!("{t:?}")
                                    children={
                                        let p = p_cards.clone();
                                        move |t: Task| view! { <Card project=p.clone() task=t editable=editable columns=columns dragging=dragging drop_before=drop_before comment_counts=comment_counts /> }
                                    }
                                />
                                <Show when=move || col_tasks.with(|t| t.is_empty())>
                                    <p class="board-empty">{move || i18n.t(if editable { "tasks.column_empty" } else { "tasks.column_empty_ro" })}</p>
                                </Show>
                            </div>
                            <Show when=move || editable>
                                <QuickAdd project=p_add.clone() column=cid_add.clone() all=all />
                            </Show>
                        </section>
                    }
                }
            />
            <Show when=move || editable>
                <div class="board-add-column">
                    <Show
                        when=move || adding_column.get()
                        fallback=move || view! {
                            <button class="btn btn-ghost btn-sm" data-testid="add-column" on:click=move |_| adding_column.set(true)>
                                "+ " {move || i18n.t("tasks.add_column")}
                            </button>
                        }
                    >
                        {
                            view! {
                                <input
                                    class="input input-sm"
                                    data-testid="new-column-name"
                                    placeholder=move || i18n.t("tasks.column_name")
                                    autofocus
                                    prop:value=move || new_column.get()
                                    on:input=move |ev| new_column.set(event_target_value(&ev))
                                    on:keydown=move |ev| {
                                        if ev.key() == "Enter" {
                                            add_column();
                                        } else if ev.key() == "Escape" {
                                            adding_column.set(false);
                                        }
                                    }
                                />
                            }
                        }
                    </Show>
                </div>
            </Show>
        </div>
    }
}

/// "+ 添加任务" at the foot of a column: type a title, Enter adds it at the end and stays open
/// for the next one.
#[component]
fn QuickAdd(project: ProjectId, column: String, all: Memo<Vec<Task>>) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let open = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let add = move || {
        let t = title.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        let last = all.with_untracked(|a| a.iter().filter(|x| x.column == column).map(|x| x.order).last());
        let task = Task {
            id: new_id("t"),
            title: t,
            column: column.clone(),
            order: tasks::order_between(last, None),
            created_by: me,
            created_at: now_ms(),
            ..Default::default()
        };
        projects.change(&project, move |d| tasks::create(d, &task, now_ms()));
        title.set(String::new());
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button class="board-quick-add" data-testid="quick-add" on:click=move |_| open.set(true)>
                    "+ " {move || i18n.t("tasks.add_task")}
                </button>
            }
        >
            {
                let add = add.clone();
                view! {
                    <input
                        class="input input-sm board-quick-input"
                        data-testid="quick-add-input"
                        maxlength="200"
                        autofocus
                        placeholder=move || i18n.t("tasks.task_title_placeholder")
                        prop:value=move || title.get()
                        on:input=move |ev| title.set(event_target_value(&ev))
                        on:blur=move |_| if title.get_untracked().is_empty() { open.set(false) }
                        on:keydown=move |ev| {
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                add();
                            } else if ev.key() == "Escape" {
                                open.set(false);
                            }
                        }
                    />
                }
            }
        </Show>
    }
}

#[component]
fn Card(
    project: ProjectId,
    task: Task,
    editable: bool,
    columns: Memo<Vec<Column>>,
    dragging: RwSignal<Option<String>>,
    drop_before: RwSignal<Option<String>>,
    comment_counts: Memo<HashMap<String, usize>>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let now = now_ms();
    let late = columns.with_untracked(|c| overdue(c, &task, now));
    let done = columns.with_untracked(|c| tasks::is_done(c, &task));
    let id = task.id.clone();
    let (id_open, id_key, id_drag, id_over, id_active) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
    let p_open = project.clone();
    let p_key = project.clone();
    let checked = task.checklist.iter().filter(|c| c.done).count();
    let total = task.checklist.len();
    let cid = task.id.clone();
    let comments = move || comment_counts.with(|c| c.get(&cid).copied().unwrap_or(0));
    let assignees: Vec<(UserId, String)> =
        task.assignees.iter().map(|u| (*u, person_name(projects, &project, *u))).collect();
    let open = move || projects.open_task.set(Some((p_open.clone(), id_open.clone())));
    let open2 = open.clone();
    view! {
        <article
            class="task-card"
            class:task-overdue=late
            class:task-done=done
            class:task-active=move || projects.open_task.with(|o| o.as_ref().is_some_and(|(_, t)| *t == id_active))
            class:drop-before=move || drop_before.get().as_deref() == Some(id.as_str())
            tabindex="0"
            draggable=if editable { "true" } else { "false" }
            data-testid="task-card"
            data-task-id=task.id.clone()
            data-title=task.title.clone()
            on:click=move |_| open()
            on:dragstart=move |ev: web_sys::DragEvent| {
                if let Some(dt) = ev.data_transfer() {
                    let _ = dt.set_data("text/plain", &id_drag);
                    dt.set_effect_allowed("move");
                }
                dragging.set(Some(id_drag.clone()));
            }
            on:dragend=move |_| {
                dragging.set(None);
                drop_before.set(None);
            }
            on:dragover=move |_| {
                if dragging.with_untracked(|d| d.as_deref() != Some(id_over.as_str()))
                    && drop_before.get_untracked().as_deref() != Some(id_over.as_str())
                {
                    drop_before.set(Some(id_over.clone()));
                }
            }
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                let key = ev.key();
                if key == "Enter" {
                    ev.prevent_default();
                    open2();
                    return;
                }
                if !editable || !ev.shift_key() {
                    return;
                }
                match key.as_str() {
                    "ArrowLeft" | "ArrowRight" => {
                        ev.prevent_default();
                        let cols = columns.get_untracked();
                        let Some(cur) = projects.data(&p_key).and_then(|d| d.1.iter().find(|t| t.id == id_key).cloned()) else { return };
                        let Some(i) = cols.iter().position(|c| c.id == cur.column) else { return };
                        let j = if key == "ArrowLeft" { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < cols.len()) };
                        if let Some(j) = j {
                            move_task(projects, &p_key, &id_key, &cols[j].id, None);
                            refocus(id_key.clone());
                        }
                    }
                    "ArrowUp" | "ArrowDown" => {
                        ev.prevent_default();
                        shift_in_column(projects, &p_key, &id_key, if key == "ArrowUp" { -1 } else { 1 });
                        refocus(id_key.clone());
                    }
                    _ => {}
                }
            }
        >
            <div class="task-card-title">
                {(task.priority > 0).then(|| view! {
                    <span class=format!("priority-flag priority-{}", task.priority) title=i18n.t(&format!("tasks.priority.{}", tasks::PRIORITIES[task.priority as usize]))></span>
                })}
                <span>{task.title.clone()}</span>
            </div>
            <div class="task-card-meta">
                {task.due.map(|d| view! {
                    <span class="chip chip-due" class:chip-overdue=late data-testid="task-due">{format_due(i18n, d)}</span>
                })}
                {task.remind_at.map(|_| view! { <span class="chip" title=i18n.t("tasks.reminder_set")>"⏰"</span> })}
                {(total > 0).then(|| view! { <span class="chip" data-testid="task-checklist">{format!("☑ {checked}/{total}")}</span> })}
                {move || (comments() > 0).then(|| view! { <span class="chip" data-testid="task-comments">{format!("💬 {}", comments())}</span> })}
                {task.labels.iter().map(|l| view! { <span class="chip chip-label">{l.clone()}</span> }).collect_view()}
                <span class="task-card-people">
                    {assignees.into_iter().map(|(_, name)| view! {
                        <span class="avatar avatar-xs" title=name.clone() data-testid="task-assignee">{initial(&name)}</span>
                    }).collect_view()}
                </span>
            </div>
        </article>
    }
}
