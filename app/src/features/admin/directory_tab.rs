//! 组织架构 Directory: the department tree beside a table of people, with a text filter and a
//! status filter. A row has a "deactivate" button only when [`acl::manage_user`] allows it
//! (super admins: anyone but themselves; department admins: the employees of their own
//! department); the relay checks the same rule again.

use super::{LoadError, Loading, expect_nav, failure_text, role_label};
use crate::api;
use crate::contexts::expect_session;
use crate::i18n::{I18n, expect_i18n};
use leptos::prelude::*;
use qiao_model::acl::{self, Actor, Role};
use qiao_model::api::{Deactivated, Department, Directory, DirectoryUser, UserStatus};
use qiao_model::ids::{DeptId, UserId};
use std::collections::HashMap;

/// Which part of the organisation the table shows.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    All,
    /// A department and everything under it.
    Dept(DeptId),
    /// People without a department.
    Unassigned,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatusFilter {
    All,
    Active,
    Deactivated,
}

/// The filters outlive a reload of the directory (after a deactivation).
#[derive(Clone, Copy)]
struct Filters {
    scope: RwSignal<Scope>,
    query: RwSignal<String>,
    status: RwSignal<StatusFilter>,
}

#[component]
pub fn DirectoryTab() -> impl IntoView {
    let i18n = expect_i18n();
    let dir = LocalResource::new(|| api::get::<Directory>("/api/directory"));
    let reload = Callback::new(move |_| dir.refetch());
    let filters = Filters {
        scope: RwSignal::new(Scope::All),
        query: RwSignal::new(String::new()),
        status: RwSignal::new(StatusFilter::All),
    };
    let notice = RwSignal::new(None::<String>);
    view! {
        {move || notice.get().map(|n| view! { <p class="banner admin-banner" role="status" data-testid="dir-notice">{n}</p> })}
        {move || match dir.get() {
            None => view! { <Loading /> }.into_any(),
            Some(Err(f)) => view! { <LoadError message=failure_text(i18n, &f) retry=reload /> }.into_any(),
            Some(Ok(d)) => view! { <DirectoryView dir=d filters=filters reload=reload notice=notice /> }.into_any(),
        }}
    }
}

/// Parent links → the path of ancestors of each department (nearest first), cycle-safe.
fn ancestors(depts: &HashMap<DeptId, Department>, id: &DeptId) -> Vec<DeptId> {
    let mut out = Vec::new();
    let mut cur = depts.get(id).and_then(|d| d.parent.clone());
    while let Some(p) = cur {
        if out.contains(&p) || out.len() > 32 {
            break;
        }
        cur = depts.get(&p).and_then(|d| d.parent.clone());
        out.push(p);
    }
    out
}

fn in_scope(depts: &HashMap<DeptId, Department>, u: &DirectoryUser, scope: &Scope) -> bool {
    match (scope, &u.department) {
        (Scope::All, _) => true,
        (Scope::Unassigned, d) => d.is_none(),
        (Scope::Dept(_), None) => false,
        (Scope::Dept(s), Some(d)) => d == s || ancestors(depts, d).contains(s),
    }
}

fn matches(u: &DirectoryUser, q: &str, status: StatusFilter) -> bool {
    let status_ok = match status {
        StatusFilter::All => true,
        StatusFilter::Active => u.status == UserStatus::Active,
        StatusFilter::Deactivated => u.status == UserStatus::Deactivated,
    };
    status_ok
        && (q.is_empty()
            || [u.name.as_str(), u.username.as_str(), u.position.as_str(), u.employee_id.as_deref().unwrap_or("")]
                .iter()
                .any(|f| f.to_lowercase().contains(q)))
}

#[component]
fn DirectoryView(
    dir: Directory,
    filters: Filters,
    reload: Callback<()>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let nav = expect_nav();
    let me = expect_session().me.get_untracked().expect("logged in");
    let my_dept = dir.users.iter().find(|u| u.id == me.id).and_then(|u| u.department.clone());
    let actor = StoredValue::new(Actor { role: me.role, dept: my_dept });
    let me_id = me.id;

    let depts: HashMap<DeptId, Department> = dir.departments.iter().map(|d| (d.id.clone(), d.clone())).collect();
    let names: HashMap<UserId, String> = dir.users.iter().map(|u| (u.id, u.name.clone())).collect();
    // People per department, counting everyone below it.
    let mut counts: HashMap<DeptId, usize> = HashMap::new();
    for u in &dir.users {
        if let Some(d) = &u.department {
            *counts.entry(d.clone()).or_default() += 1;
            for a in ancestors(&depts, d) {
                *counts.entry(a).or_default() += 1;
            }
        }
    }
    let unassigned = dir.users.iter().filter(|u| u.department.is_none()).count();
    let total = dir.users.len();
    let no_departments = dir.departments.is_empty();
    let mut children: HashMap<Option<DeptId>, Vec<Department>> = HashMap::new();
    for d in &dir.departments {
        // A parent that is not in the list makes the department a top-level one.
        let parent = d.parent.clone().filter(|p| depts.contains_key(p));
        children.entry(parent).or_default().push(d.clone());
    }
    for v in children.values_mut() {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }

    let data = StoredValue::new((dir, depts, names));
    let shown = Memo::new(move |_| {
        let scope = filters.scope.get();
        let q = filters.query.get().trim().to_lowercase();
        let status = filters.status.get();
        data.with_value(|(dir, depts, _)| {
            let mut v: Vec<DirectoryUser> =
                dir.users.iter().filter(|u| in_scope(depts, u, &scope) && matches(u, &q, status)).cloned().collect();
            v.sort_by(|a, b| (a.status != UserStatus::Active, &a.name).cmp(&(b.status != UserStatus::Active, &b.name)));
            v
        })
    });

    let confirm = RwSignal::new(None::<DirectoryUser>);
    let error = RwSignal::new(None::<String>);
    let deactivate = Action::new_local(move |u: &DirectoryUser| {
        let (id, name) = (u.id, u.name.clone());
        async move {
            match api::post_bare::<Deactivated>(&format!("/api/admin/users/{id}/deactivate")).await {
                Ok(d) => {
                    notice.set(Some(
                        i18n.tf("admin.dir.deactivated", &[("name", name), ("n", d.sessions_revoked.to_string())]),
                    ));
                    confirm.set(None);
                    reload.run(());
                }
                Err(f) => error.set(Some(failure_text(i18n, &f))),
            }
        }
    });

    let tree = tree_nodes(None, 0, &children, &counts, filters.scope);
    view! {
        <div class="admin-directory">
            <nav class="dept-tree" aria-label=move || i18n.t("admin.dir.departments") data-testid="dept-tree">
                <h3 class="admin-subtitle">{move || i18n.t("admin.dir.departments")}</h3>
                <ul>
                    <li>
                        <ScopeButton scope=Scope::All current=filters.scope count=total depth=0>
                            {move || i18n.t("admin.dir.everyone")}
                        </ScopeButton>
                    </li>
                    {tree}
                    {(unassigned > 0)
                        .then(|| {
                            view! {
                                <li>
                                    <ScopeButton scope=Scope::Unassigned current=filters.scope count=unassigned depth=0>
                                        {move || i18n.t("admin.dir.unassigned")}
                                    </ScopeButton>
                                </li>
                            }
                        })}
                </ul>
                {no_departments
                    .then(|| {
                        let super_admin = me.role == Role::SuperAdmin;
                        view! {
                            <div class="dept-empty" data-testid="dept-empty">
                                <p class="muted">
                                    {move || {
                                        i18n.t(
                                            if super_admin { "admin.dir.no_departments_super" } else { "admin.dir.no_departments" },
                                        )
                                    }}
                                </p>
                                {super_admin
                                    .then(|| {
                                        view! {
                                            <button
                                                class="btn btn-secondary btn-sm"
                                                on:click=move |_| nav.tab.set(super::Tab::Import)
                                            >
                                                {move || i18n.t("admin.dir.go_import")}
                                            </button>
                                        }
                                    })}
                            </div>
                        }
                    })}
            </nav>
            <section class="admin-section dir-people">
                <div class="admin-toolbar">
                    <input
                        class="input admin-search"
                        type="search"
                        placeholder=move || i18n.t("admin.dir.filter_placeholder")
                        aria-label=move || i18n.t("admin.dir.filter_placeholder")
                        data-testid="dir-filter"
                        prop:value=move || filters.query.get()
                        on:input=move |ev| filters.query.set(event_target_value(&ev))
                    />
                    <select
                        class="select admin-select"
                        aria-label=move || i18n.t("admin.dir.status")
                        data-testid="dir-status"
                        on:change=move |ev| {
                            filters
                                .status
                                .set(
                                    match event_target_value(&ev).as_str() {
                                        "active" => StatusFilter::Active,
                                        "deactivated" => StatusFilter::Deactivated,
                                        _ => StatusFilter::All,
                                    },
                                )
                        }
                    >
                        <option value="all" selected=move || filters.status.get() == StatusFilter::All>
                            {move || i18n.t("admin.dir.status_all")}
                        </option>
                        <option value="active" selected=move || filters.status.get() == StatusFilter::Active>
                            {move || i18n.t("admin.status.active")}
                        </option>
                        <option value="deactivated" selected=move || filters.status.get() == StatusFilter::Deactivated>
                            {move || i18n.t("admin.status.deactivated")}
                        </option>
                    </select>
                    <span class="muted admin-count" data-testid="dir-count">
                        {move || i18n.tf("admin.dir.count", &[("n", shown.with(|s| s.len()).to_string())])}
                    </span>
                </div>
                <Show
                    when=move || shown.with(|s| !s.is_empty())
                    fallback=move || {
                        view! {
                            <div class="empty-state admin-empty" data-testid="dir-empty">
                                <h3>{move || i18n.t("admin.dir.empty_title")}</h3>
                                <p>{move || i18n.t("admin.dir.empty_body")}</p>
                            </div>
                        }
                    }
                >
                    <div class="table-wrap">
                        <table class="table" data-testid="dir-table">
                            <thead>
                                <tr>
                                    <th>{move || i18n.t("admin.dir.col_name")}</th>
                                    <th>{move || i18n.t("admin.dir.col_employee_id")}</th>
                                    <th>{move || i18n.t("admin.dir.col_department_position")}</th>
                                    <th>{move || i18n.t("admin.dir.col_manager")}</th>
                                    <th>{move || i18n.t("admin.dir.col_role")}</th>
                                    <th>{move || i18n.t("admin.dir.col_status")}</th>
                                    <th class="cell-actions">
                                        <span class="sr-only">{move || i18n.t("admin.actions")}</span>
                                    </th>
                                </tr>
                            </thead>
                            <tbody>
                                <For
                                    each=move || shown.get()
                                    key=|u| (u.id, u.status, u.department.clone(), u.role)
                                    children=move |u| {
                                        let (dept_path, manager) = data
                                            .with_value(|(_, depts, names)| {
                                                (
                                                    u.department.as_ref().and_then(|d| depts.get(d)).map(|d| d.path.clone()),
                                                    u.manager.and_then(|m| names.get(&m).cloned()),
                                                )
                                            });
                                        let may = u.status == UserStatus::Active
                                            && actor
                                                .with_value(|a| {
                                                    acl::manage_user(a, u.role, u.department.as_ref(), u.id == me_id)
                                                })
                                                .is_ok();
                                        user_row(i18n, u, dept_path, manager, may, confirm, error)
                                    }
                                />
                            </tbody>
                        </table>
                    </div>
                </Show>
            </section>
        </div>
        {move || {
            confirm
                .get()
                .map(|u| {
                    let target = u.clone();
                    view! {
                        <div class="modal-backdrop" on:click=move |_| confirm.set(None)>
                            <div
                                class="modal"
                                role="alertdialog"
                                aria-modal="true"
                                data-testid="deactivate-dialog"
                                on:click=|ev| ev.stop_propagation()
                                on:keydown=move |ev| {
                                    if ev.key() == "Escape" {
                                        confirm.set(None);
                                    }
                                }
                            >
                                <h3 class="modal-title">
                                    {move || i18n.tf("admin.dir.confirm_title", &[("name", u.name.clone())])}
                                </h3>
                                <div class="modal-body">
                                    <p>{move || i18n.t("admin.dir.confirm_body")}</p>
                                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                </div>
                                <div class="modal-actions">
                                    <button type="button" class="btn btn-secondary" on:click=move |_| confirm.set(None)>
                                        {move || i18n.t("admin.cancel")}
                                    </button>
                                    <button
                                        type="button"
                                        class="btn btn-danger"
                                        data-testid="confirm-deactivate"
                                        disabled=move || deactivate.pending().get()
                                        aria-busy=move || deactivate.pending().get().to_string()
                                        on:click=move |_| {
                                            error.set(None);
                                            deactivate.dispatch(target.clone());
                                        }
                                    >
                                        {move || i18n.t("admin.dir.deactivate")}
                                    </button>
                                </div>
                            </div>
                        </div>
                    }
                })
        }}
    }
}

fn user_row(
    i18n: I18n,
    u: DirectoryUser,
    dept_path: Option<String>,
    manager: Option<String>,
    may_deactivate: bool,
    confirm: RwSignal<Option<DirectoryUser>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let status = u.status;
    let role = u.role;
    let none = "—";
    let target = u.clone();
    view! {
        <tr data-testid="dir-row" data-username=u.username.clone() data-status=status.as_str()>
            <td>
                <div class="cell-main">{u.name.clone()}</div>
                <div class="cell-sub">{u.username.clone()}</div>
            </td>
            <td class="cell-mono">{u.employee_id.clone().unwrap_or_else(|| none.into())}</td>
            <td class="cell-wrap">
                {match dept_path {
                    Some(p) => view! { <div>{p}</div> }.into_any(),
                    None => view! { <div class="muted">{move || i18n.t("admin.dir.unassigned")}</div> }.into_any(),
                }}
                <div class="cell-sub">{u.position.clone()}</div>
            </td>
            <td>{manager.unwrap_or_else(|| none.into())}</td>
            <td>
                <span class="pill" data-role=role.as_str()>{move || role_label(i18n, role)}</span>
            </td>
            <td>
                <span class="pill" data-status=status.as_str()>
                    {move || i18n.t(&format!("admin.status.{}", status.as_str()))}
                </span>
            </td>
            <td class="cell-actions">
                {may_deactivate
                    .then(|| {
                        view! {
                            <button
                                class="btn btn-ghost btn-sm btn-danger-text"
                                data-testid="deactivate-user"
                                on:click=move |_| {
                                    error.set(None);
                                    confirm.set(Some(target.clone()));
                                }
                            >
                                {move || i18n.t("admin.dir.deactivate")}
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}

#[component]
fn ScopeButton(
    scope: Scope,
    current: RwSignal<Scope>,
    count: usize,
    depth: usize,
    children: Children,
) -> impl IntoView {
    let s2 = scope.clone();
    let active = Memo::new(move |_| current.with(|c| *c == s2));
    view! {
        <button
            class="dept-node"
            class:active=move || active.get()
            aria-current=move || if active.get() { "true" } else { "false" }
            style=format!("--depth: {depth}")
            data-testid="dept-node"
            on:click=move |_| current.set(scope.clone())
        >
            <span class="dept-name">{children()}</span>
            <span class="dept-count">{count}</span>
        </button>
    }
}

fn tree_nodes(
    parent: Option<DeptId>,
    depth: usize,
    children: &HashMap<Option<DeptId>, Vec<Department>>,
    counts: &HashMap<DeptId, usize>,
    scope: RwSignal<Scope>,
) -> Vec<AnyView> {
    // Deep or cyclic parent links cannot hang the page.
    if depth > 12 {
        return Vec::new();
    }
    children
        .get(&parent)
        .map(|list| {
            list.iter()
                .map(|d| {
                    let below = tree_nodes(Some(d.id.clone()), depth + 1, children, counts, scope);
                    let count = counts.get(&d.id).copied().unwrap_or(0);
                    let name = d.name.clone();
                    view! {
                        <li data-dept-path=d.path.clone()>
                            <ScopeButton scope=Scope::Dept(d.id.clone()) current=scope count=count depth=depth>
                                {name.clone()}
                            </ScopeButton>
                        </li>
                        {below}
                    }
                    .into_any()
                })
                .collect()
        })
        .unwrap_or_default()
}
