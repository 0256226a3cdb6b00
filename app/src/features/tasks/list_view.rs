//! The list view (列表): one row per task, sortable by any column header, filtered by text,
//! assignee and status.

use super::{column_name, expect_projects, format_due, now_ms, overdue, person_name};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::ids::ProjectId;
use qiao_model::schema::tasks::{self, Task};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SortBy {
    Board,
    Title,
    Status,
    Due,
    Priority,
}

#[component]
pub fn ListView(project: ProjectId) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let p = project.clone();
    let columns = Memo::new(move |_| projects.data(&p).map(|d| d.0.clone()).unwrap_or_default());
    let p = project.clone();
    let all = Memo::new(move |_| projects.data(&p).map(|d| d.1.clone()).unwrap_or_default());
    let sort = RwSignal::new((SortBy::Board, false));
    let query = RwSignal::new(String::new());
    let only_mine = RwSignal::new(false);
    let hide_done = RwSignal::new(false);

    let rows = Memo::new(move |_| {
        let cols = columns.get();
        let q = query.get().to_lowercase();
        let (by, desc) = sort.get();
        let mut v: Vec<Task> = all
            .get()
            .into_iter()
            .filter(|t| {
                q.is_empty()
                    || t.title.to_lowercase().contains(&q)
                    || t.labels.iter().any(|l| l.to_lowercase().contains(&q))
            })
            .filter(|t| !only_mine.get() || t.assignees.contains(&me))
            .filter(|t| !hide_done.get() || !tasks::is_done(&cols, t))
            .collect();
        let rank = |t: &Task| cols.iter().position(|c| c.id == t.column).unwrap_or(0);
        match by {
            SortBy::Board => {}
            SortBy::Title => v.sort_by(|a, b| a.title.cmp(&b.title)),
            SortBy::Status => v.sort_by_key(|t| rank(t)),
            // Tasks without a due date go last either way.
            SortBy::Due => v.sort_by_key(|t| t.due.unwrap_or(i64::MAX)),
            SortBy::Priority => v.sort_by(|a, b| b.priority.cmp(&a.priority)),
        }
        if desc {
            v.reverse();
        }
        v
    });

    let header = move |by: SortBy, key: &'static str| {
        view! {
            <th
                scope="col"
                class="sortable"
                aria-sort=move || match sort.get() {
                    (b, false) if b == by => "ascending",
                    (b, true) if b == by => "descending",
                    _ => "none",
                }
                data-testid=format!("sort-{key}")
                on:click=move |_| sort.update(|(b, d)| {
                    if *b == by {
                        *d = !*d;
                    } else {
                        *b = by;
                        *d = false;
                    }
                })
            >
                {move || i18n.t(&format!("tasks.field.{key}"))}
            </th>
        }
    };

    let p_rows = project.clone();
    view! {
        <div class="task-list-view" data-testid="task-list">
            <div class="task-filters">
                <input class="input input-sm" type="search" data-testid="task-filter"
                    placeholder=move || i18n.t("tasks.filter_placeholder")
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
                <label class="checkbox">
                    <input type="checkbox" data-testid="filter-mine" prop:checked=move || only_mine.get() on:change=move |ev| only_mine.set(event_target_checked(&ev)) />
                    <span>{move || i18n.t("tasks.only_mine")}</span>
                </label>
                <label class="checkbox">
                    <input type="checkbox" data-testid="filter-hide-done" prop:checked=move || hide_done.get() on:change=move |ev| hide_done.set(event_target_checked(&ev)) />
                    <span>{move || i18n.t("tasks.hide_done")}</span>
                </label>
                <span class="muted">{move || i18n.tf("tasks.count", &[("n", rows.with(|r| r.len()).to_string())])}</span>
            </div>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            {header(SortBy::Title, "title")}
                            {header(SortBy::Status, "status")}
                            <th scope="col">{move || i18n.t("tasks.field.assignees")}</th>
                            {header(SortBy::Due, "due")}
                            {header(SortBy::Priority, "priority")}
                            <th scope="col">{move || i18n.t("tasks.field.labels")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            let cols = columns.get();
                            let now = now_ms();
                            rows.get().into_iter().map(|t| {
                                let late = overdue(&cols, &t, now);
                                let status = cols.iter().find(|c| c.id == t.column).map(|c| column_name(i18n, c)).unwrap_or_default();
                                let who = t.assignees.iter().map(|u| person_name(projects, &p_rows, *u)).collect::<Vec<_>>().join("、");
                                let (p, id) = (p_rows.clone(), t.id.clone());
                                view! {
                                    <tr class="clickable" class:task-overdue=late data-testid="task-row" data-title=t.title.clone()
                                        on:click=move |_| projects.open_task.set(Some((p.clone(), id.clone())))
                                    >
                                        <td class="task-row-title">{t.title.clone()}</td>
                                        <td>{status}</td>
                                        <td>{who}</td>
                                        <td class:text-danger=late>{t.due.map(|d| format_due(i18n, d)).unwrap_or_default()}</td>
                                        <td>{(t.priority > 0).then(|| i18n.t(&format!("tasks.priority.{}", tasks::PRIORITIES[t.priority as usize])))}</td>
                                        <td>{t.labels.join(" · ")}</td>
                                    </tr>
                                }
                            }).collect_view()
                        }}
                    </tbody>
                </table>
                <Show when=move || rows.with(|r| r.is_empty())>
                    <p class="muted panel-pad">{move || i18n.t("tasks.list_empty")}</p>
                </Show>
            </div>
        </div>
    }
}
