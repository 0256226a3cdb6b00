//! The tasks page: a rail of projects ("my tasks" first) beside the open project's board or
//! list, and the task panel on the right.

use super::board::Board;
use super::list_view::ListView;
use super::my_tasks::MyTasks;
use super::project_dialog::ProjectDialog;
use super::task_detail::TaskDetail;
use super::{View, expect_projects};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::api::ProjectVisibility;

#[component]
pub fn TasksPage(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let dialog_open = RwSignal::new(false);
    let members_open = RwSignal::new(false);
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let current = Memo::new(move |_| projects.selected.get().and_then(|id| projects.summary(&id)));
    let my_count = Memo::new(move |_| super::my_tasks::mine(projects, me).len());
    // Opening the page asks the relay for projects made (or joined) since the last look.
    leptos::task::spawn_local(projects.refresh());

    let title = move || match current.get() {
        Some(p) => p.name,
        None => i18n.t("tasks.my_tasks"),
    };
    let subtitle = move || match current.get() {
        Some(p) => {
            let vis = i18n.t(if p.visibility == ProjectVisibility::Company {
                "tasks.visibility_company"
            } else {
                "tasks.visibility_private"
            });
            let role = if p.member { String::new() } else { format!(" · {}", i18n.t("tasks.read_only")) };
            format!("{} · {vis}{role}", i18n.tf("tasks.members_n", &[("n", p.members.to_string())]))
        }
        None => i18n.t("tasks.my_tasks_subtitle"),
    };

    view! {
        <header class="chat-header tasks-header">
            <button class="sidebar-toggle icon-btn" aria-label=move || i18n.t("sidebar.open_menu") data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title" data-testid="tasks-title">{title}</h2>
            <span class="chat-subtitle">{subtitle}</span>
            <span class="spacer"></span>
            <Show when=move || current.with(|c| c.is_some())>
                <button class="btn btn-ghost btn-sm" data-testid="project-members" on:click=move |_| members_open.set(true)>
                    {move || i18n.t("tasks.members")}
                </button>
                <div class="segmented" role="tablist">
                    <button role="tab" class="segmented-item" data-testid="view-board"
                        aria-selected=move || (projects.view.get() == View::Board).to_string()
                        on:click=move |_| projects.set_view(View::Board)
                    >{move || i18n.t("tasks.view_board")}</button>
                    <button role="tab" class="segmented-item" data-testid="view-list"
                        aria-selected=move || (projects.view.get() == View::List).to_string()
                        on:click=move |_| projects.set_view(View::List)
                    >{move || i18n.t("tasks.view_list")}</button>
                </div>
            </Show>
        </header>
        <div class="tasks-layout">
            <nav class="project-rail" data-testid="project-rail" aria-label=move || i18n.t("tasks.projects")>
                <button class="rail-item" data-testid="open-my-tasks"
                    aria-current=move || if projects.selected.get().is_none() { "page" } else { "false" }
                    on:click=move |_| projects.select(None)
                >
                    <span class="rail-icon" aria-hidden="true">"✓"</span>
                    <span class="rail-name">{move || i18n.t("tasks.my_tasks")}</span>
                    <Show when=move || { my_count.get() > 0 }>
                        <span class="badge">{move || my_count.get()}</span>
                    </Show>
                </button>
                <div class="rail-section">
                    <span>{move || i18n.t("tasks.projects")}</span>
                    <button class="icon-btn icon-btn-sm" data-testid="new-project" title=move || i18n.t("tasks.new_project")
                        aria-label=move || i18n.t("tasks.new_project") on:click=move |_| dialog_open.set(true)
                    >"+"</button>
                </div>
                <For each=move || projects.list.get() key=|p| (p.id.clone(), p.name.clone(), p.member) children=move |p| {
                    let id = p.id.clone();
                    let id2 = p.id.clone();
                    view! {
                        <button class="rail-item" data-testid="project-item" data-project-name=p.name.clone()
                            aria-current=move || if projects.selected.get().as_ref() == Some(&id) { "page" } else { "false" }
                            on:click=move |_| {
                                projects.select(Some(id2.clone()));
                                projects.open_task.set(None);
                            }
                        >
                            <span class="rail-icon project-dot" aria-hidden="true">{super::initial(&p.name)}</span>
                            <span class="rail-name">{p.name.clone()}</span>
                            {(!p.member).then(|| view! { <span class="muted rail-note">{i18n.t("tasks.read_only")}</span> })}
                        </button>
                    }
                } />
                <Show when=move || projects.list.with(|l| l.is_empty())>
                    <p class="rail-empty muted">{move || i18n.t("tasks.no_projects_hint")}</p>
                </Show>
            </nav>
            <section class="tasks-main">
                {move || match current.get() {
                    None if projects.list.with(|l| l.is_empty()) => view! {
                        <div class="empty-state" data-testid="tasks-empty">
                            <h3>{i18n.t("tasks.empty_title")}</h3>
                            <p>{i18n.t("tasks.empty_body")}</p>
                            <button class="btn btn-primary" on:click=move |_| dialog_open.set(true)>{i18n.t("tasks.new_project")}</button>
                        </div>
                    }.into_any(),
                    None => view! { <MyTasks /> }.into_any(),
                    Some(p) => {
                        let editable = p.member;
                        let id = p.id.clone();
                        move || match projects.view.get() {
                            View::Board => view! { <Board project=id.clone() editable=editable /> }.into_any(),
                            View::List => view! { <ListView project=id.clone() /> }.into_any(),
                        }
                    }.into_any(),
                }}
            </section>
            {move || projects.open_task.get().map(|(p, t)| view! { <TaskDetail project=p task_id=t /> })}
        </div>
        <Show when=move || dialog_open.get()>
            <ProjectDialog open=dialog_open />
        </Show>
        {move || (members_open.get()).then(|| current.get().map(|p| view! { <super::members_dialog::MembersDialog project=p open=members_open /> }))}
    }
}
