//! "My tasks" (我的任务): everything assigned to me across projects that is not finished,
//! grouped as overdue, today, upcoming and without a date.

use super::{Projects, expect_projects, format_due, now_ms};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks::{self, Task};

/// My unfinished tasks in every open board: (project, project name, task).
pub fn mine(projects: Projects, me: UserId) -> Vec<(ProjectId, String, Task)> {
    let list = projects.list.get();
    let mut out = Vec::new();
    for p in list {
        let Some(data) = projects.data(&p.id) else { continue };
        let (cols, ts) = &*data;
        for t in ts {
            if t.assignees.contains(&me) && !tasks::is_done(cols, t) {
                out.push((p.id.clone(), p.name.clone(), t.clone()));
            }
        }
    }
    out.sort_by_key(|(_, _, t)| t.due.unwrap_or(i64::MAX));
    out
}

/// Local midnight after `now` (ms).
fn end_of_today(now: i64) -> i64 {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(now as f64));
    d.set_hours(24);
    d.set_minutes(0);
    d.set_seconds(0);
    d.set_milliseconds(0);
    d.get_time() as i64
}

/// How many of my tasks are overdue (the sidebar's badge).
pub fn overdue_count(projects: Projects, me: UserId) -> usize {
    let now = now_ms();
    mine(projects, me).iter().filter(|(_, _, t)| t.due.is_some_and(|d| d < now)).count()
}

#[component]
pub fn MyTasks() -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let all = Memo::new(move |_| mine(projects, me));
    let section = move |key: &'static str, pick: fn(&Task, i64, i64) -> bool| {
        let items = Memo::new(move |_| {
            let now = now_ms();
            let eod = end_of_today(now);
            all.get().into_iter().filter(|(_, _, t)| pick(t, now, eod)).collect::<Vec<_>>()
        });
        view! {
            <Show when=move || items.with(|i| !i.is_empty())>
                <section class="my-tasks-section" data-testid=format!("my-tasks-{key}")>
                    <h3 class="my-tasks-heading" class:text-danger=key == "overdue">
                        {move || i18n.t(&format!("tasks.my.{key}"))}
                        <span class="badge">{move || items.with(|i| i.len())}</span>
                    </h3>
                    <ul class="my-tasks-list">
                        <For each=move || items.get() key=|(p, _, t)| format!("{p}:{t:?}") children=move |(p, name, t)| {
                            let id = t.id.clone();
                            let late = key == "overdue";
                            view! {
                                <li>
                                    <button class="my-task" class:task-overdue=late data-testid="my-task" data-title=t.title.clone()
                                        on:click=move |_| {
                                            projects.select(Some(p.clone()));
                                            projects.open_task.set(Some((p.clone(), id.clone())));
                                        }
                                    >
                                        <span class="my-task-title">{t.title.clone()}</span>
                                        <span class="muted">{name}</span>
                                        {t.due.map(|d| view! { <span class="chip chip-due" class:chip-overdue=late>{format_due(i18n, d)}</span> })}
                                    </button>
                                </li>
                            }
                        } />
                    </ul>
                </section>
            </Show>
        }
    };
    view! {
        <div class="my-tasks" data-testid="my-tasks">
            {section("overdue", |t, now, _| t.due.is_some_and(|d| d < now))}
            {section("today", |t, now, eod| t.due.is_some_and(|d| d >= now && d < eod))}
            {section("upcoming", |t, _, eod| t.due.is_some_and(|d| d >= eod))}
            {section("no_date", |t, _, _| t.due.is_none())}
            <Show when=move || all.with(|a| a.is_empty())>
                <div class="empty-state">
                    <h3>{move || i18n.t("tasks.my.empty_title")}</h3>
                    <p>{move || i18n.t("tasks.my.empty_body")}</p>
                </div>
            </Show>
        </div>
    }
}
