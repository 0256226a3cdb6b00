//! A project's members: everyone sees who is in it; the owner and super admins add people from
//! the directory and remove them; anyone may leave. Changes go through the relay (it keeps who
//! may open the board), so this needs the network.

use super::{expect_projects, initial};
use crate::api::{self, ApiFailure};
use crate::features::chat::people::expect_people;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::acl::Role;
use qiao_model::api::{AddMember, ProjectSummary};
use qiao_model::ids::UserId;

#[component]
pub fn MembersDialog(project: ProjectSummary, open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let people = expect_people();
    let me = crate::contexts::expect_session().me.get_untracked();
    let my_id = me.as_ref().map(|m| m.id).unwrap_or_default();
    let manages = project.owner == my_id || me.as_ref().is_some_and(|m| m.role == Role::SuperAdmin);
    let id = project.id.clone();
    let members = {
        let id = id.clone();
        Memo::new(move |_| projects.members.with(|m| m.get(&id).cloned().unwrap_or_default()))
    };
    leptos::task::spawn_local(projects.load_members(id.clone()));
    let filter = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let candidates = Memo::new(move |_| {
        let f = filter.get();
        if f.trim().is_empty() {
            return Vec::new();
        }
        let inside: Vec<UserId> = members.with(|m| m.iter().map(|x| x.id).collect());
        people.matching(&f, 20).into_iter().filter(|u| !inside.contains(&u.id)).collect::<Vec<_>>()
    });
    let report = move |r: Result<(), ApiFailure>| match r {
        Ok(()) => error.set(None),
        Err(ApiFailure::Offline) => error.set(Some(i18n.t("tasks.members_need_network"))),
        Err(f) => error.set(Some(f.message())),
    };
    let pid = StoredValue::new(id.clone());
    let add = move |user: UserId| {
        let id = pid.get_value();
        leptos::task::spawn_local(async move {
            let r = api::post_no_content(&format!("/api/projects/{id}/members"), &AddMember { user }).await;
            let ok = r.is_ok();
            report(r);
            if ok {
                filter.set(String::new());
                projects.load_members(id).await;
                projects.refresh().await;
            }
        });
    };
    let remove = move |user: UserId| {
        let id = pid.get_value();
        leptos::task::spawn_local(async move {
            let r = api::delete(&format!("/api/projects/{id}/members/{}", user.0)).await;
            let ok = r.is_ok();
            report(r);
            if ok {
                if user == my_id {
                    open.set(false);
                }
                projects.load_members(id).await;
                projects.refresh().await;
            }
        });
    };
    let owner = project.owner;
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <div class="modal" role="dialog" aria-modal="true" data-testid="project-members-dialog"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                <h3 class="modal-title">{i18n.tf("tasks.members_title", &[("name", project.name.clone())])}</h3>
                <div class="modal-body">
                    {manages.then(|| view! {
                        <div class="people-picker">
                            <input class="input" type="search" data-testid="project-member-find"
                                placeholder=move || i18n.t("channel.find_people")
                                prop:value=move || filter.get()
                                on:input=move |ev| filter.set(event_target_value(&ev))
                            />
                            <div class="people-list">
                                <For each=move || candidates.get() key=|u| u.id children=move |u| {
                                    let uid = u.id;
                                    view! {
                                        <button type="button" class="person person-add" data-testid="project-member-add" data-username=u.username.clone()
                                            on:click=move |_| add(uid)
                                        >
                                            <span class="avatar avatar-sm">{initial(&u.name)}</span>
                                            <span>{u.name.clone()}</span>
                                            <span class="muted">"+"</span>
                                        </button>
                                    }
                                } />
                            </div>
                        </div>
                    })}
                    <ul class="member-list">
                        <For each=move || members.get() key=|m| m.id children=move |m| {
                            let uid = m.id;
                            let can_remove = uid != owner && (manages || uid == my_id);
                            view! {
                                <li class="member-row" data-testid="project-member" data-username=m.username.clone()>
                                    <span class="avatar avatar-sm">{initial(&m.display_name)}</span>
                                    <span class="member-name">{m.display_name.clone()}</span>
                                    {(uid == owner).then(|| view! { <span class="chip">{i18n.t("tasks.owner")}</span> })}
                                    <span class="spacer"></span>
                                    {can_remove.then(|| view! {
                                        <button type="button" class="btn btn-ghost btn-sm" data-testid="project-member-remove"
                                            on:click=move |_| remove(uid)
                                        >{i18n.t(if uid == my_id { "tasks.leave" } else { "tasks.remove" })}</button>
                                    })}
                                </li>
                            }
                        } />
                    </ul>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" data-testid="project-members-close" on:click=move |_| open.set(false)>{move || i18n.t("tasks.close")}</button>
                </div>
            </div>
        </div>
    }
}
