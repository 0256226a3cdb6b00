//! "New project": a name, who sees it, and its first members (from the directory). Needs the
//! network: the relay keeps who may open the board.

use super::expect_projects;
use crate::api::{self, ApiFailure};
use crate::features::chat::people::expect_people;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::api::{CreateProject, ProjectSummary, ProjectVisibility};
use qiao_model::ids::UserId;

#[component]
pub fn ProjectDialog(open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let people = expect_people();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let company = RwSignal::new(false);
    let picked = RwSignal::new(Vec::<UserId>::new());
    let filter = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let shown = Memo::new(move |_| {
        people.matching(&filter.get(), 50).into_iter().filter(|u| Some(u.id) != me).collect::<Vec<_>>()
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let req = CreateProject {
            name: name.get_untracked(),
            description: description.get_untracked(),
            visibility: if company.get_untracked() { ProjectVisibility::Company } else { ProjectVisibility::Private },
            members: picked.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match api::post::<_, ProjectSummary>("/api/projects", &req).await {
                Ok(p) => {
                    projects.add(p);
                    open.set(false);
                }
                Err(ApiFailure::Offline) => error.set(Some(i18n.t("tasks.project_offline"))),
                Err(f) => error.set(Some(f.message())),
            }
            busy.set(false);
        });
    };
    let toggle = move |u: UserId| {
        picked.update(|p| {
            if let Some(i) = p.iter().position(|x| *x == u) {
                p.remove(i);
            } else {
                p.push(u);
            }
        })
    };

    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <form class="modal" role="dialog" aria-modal="true" data-testid="project-dialog"
                on:click=|ev| ev.stop_propagation()
                on:submit=submit
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                <h3 class="modal-title">{move || i18n.t("tasks.new_project")}</h3>
                <div class="modal-body">
                    <label class="field">
                        <span class="field-label">{move || i18n.t("tasks.project_name")}</span>
                        <input class="input" maxlength="80" autofocus data-testid="project-name"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="field">
                        <span class="field-label">{move || i18n.t("tasks.project_description")}</span>
                        <input class="input" maxlength="2000" data-testid="project-description"
                            prop:value=move || description.get()
                            on:input=move |ev| description.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="checkbox">
                        <input type="checkbox" data-testid="project-company" prop:checked=move || company.get() on:change=move |ev| company.set(event_target_checked(&ev)) />
                        <span>{move || i18n.t("tasks.project_company")}</span>
                    </label>
                    <div class="people-picker">
                        <span class="field-label">{move || i18n.t("tasks.project_members")}</span>
                        <input class="input" type="search" data-testid="project-people-filter"
                            placeholder=move || i18n.t("channel.find_people")
                            prop:value=move || filter.get()
                            on:input=move |ev| filter.set(event_target_value(&ev))
                        />
                        <div class="people-list">
                            <For each=move || shown.get() key=|u| u.id children=move |u| {
                                let id = u.id;
                                view! {
                                    <label class="person" data-testid="project-person" data-username=u.username.clone()>
                                        <input type="checkbox" prop:checked=move || picked.with(|p| p.contains(&id)) on:change=move |_| toggle(id) />
                                        <span class="avatar avatar-sm">{super::initial(&u.name)}</span>
                                        <span>{u.name.clone()}</span>
                                        <span class="muted">{u.position.clone()}</span>
                                    </label>
                                }
                            } />
                        </div>
                    </div>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>{move || i18n.t("channel.cancel")}</button>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="project-create">{move || i18n.t("tasks.create_project")}</button>
                </div>
            </form>
        </div>
    }
}
