//! Creating a folder: a top folder of a place the caller may manage (the company, a department,
//! a project), or a subfolder of the selected folder; optionally with approval (files added by
//! people who may not approve them wait for a department admin).

use super::expect_library;
use crate::api;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::library::{Folder, NewFolder, Place, PlaceChoice};

/// Where the new folder goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Top,
    Under(String),
}

/// How a place is named in the choice.
fn place_name(c: &PlaceChoice) -> String {
    let i18n = expect_i18n();
    match c.place {
        Place::Company => i18n.t("library.company"),
        Place::Dept(_) => c.name.clone(),
        Place::Project(_) => format!("{} · {}", i18n.t("library.project"), c.name),
    }
}

#[component]
pub fn FolderDialog(target: RwSignal<Option<Target>>) -> impl IntoView {
    let i18n = expect_i18n();
    let state = expect_library();
    let under = target.get_untracked().and_then(|t| match t {
        Target::Under(id) => state.folder(&id),
        Target::Top => None,
    });
    let places: Vec<(usize, String)> =
        state.lib.with_untracked(|l| l.may_create_in.iter().enumerate().map(|(i, p)| (i, place_name(p))).collect());
    let place = RwSignal::new(0usize);
    let name = RwSignal::new(String::new());
    let approval = RwSignal::new(under.as_ref().is_some_and(|f| f.needs_approval));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let parent = under.as_ref().map(|f| f.id.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = NewFolder {
            name: name.get_untracked(),
            place: if parent.is_some() {
                None
            } else {
                state.lib.with_untracked(|l| l.may_create_in.get(place.get_untracked()).map(|c| c.place.clone()))
            },
            parent: parent.clone(),
            needs_approval: approval.get_untracked(),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::post::<_, Folder>("/api/library/folders", &req).await {
                Ok(f) => {
                    target.set(None);
                    state.select(Some(f.id));
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| if !busy.get_untracked() { target.set(None) }>
            <form class="modal" role="dialog" aria-modal="true" data-testid="lib-folder-dialog"
                on:click=|ev| ev.stop_propagation()
                on:submit=submit
                on:keydown=move |ev| if ev.key() == "Escape" && !busy.get_untracked() { target.set(None) }
            >
                <h3 class="modal-title">{let sub = under.is_some(); move || i18n.t(if sub { "library.new_subfolder" } else { "library.new_folder" })}</h3>
                <div class="modal-body">
                    {match under.clone() {
                        Some(f) => view! { <p class="muted">{i18n.tf("library.inside", &[("name", f.name)])}</p> }.into_any(),
                        None => view! {
                            <label class="field">
                                <span class="field-label">{move || i18n.t("library.place")}</span>
                                <select class="select" data-testid="lib-folder-place" on:change=move |ev| place.set(event_target_value(&ev).parse().unwrap_or(0))>
                                    {places.clone().into_iter().map(|(i, n)| view! { <option value=i.to_string()>{n}</option> }).collect_view()}
                                </select>
                            </label>
                        }.into_any(),
                    }}
                    <label class="field">
                        <span class="field-label">{move || i18n.t("library.folder_name")}</span>
                        <input class="input" autofocus maxlength="80" data-testid="lib-folder-name"
                            placeholder=move || i18n.t("library.folder_name_placeholder")
                            prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    </label>
                    <label class="checkbox">
                        <input type="checkbox" data-testid="lib-folder-approval" prop:checked=move || approval.get()
                            on:change=move |ev| approval.set(event_target_checked(&ev)) />
                        <span>{move || i18n.t("library.needs_approval_hint")}</span>
                    </label>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" disabled=move || busy.get() on:click=move |_| target.set(None)>
                        {move || i18n.t("channel.cancel")}
                    </button>
                    <button type="submit" class="btn btn-primary" data-testid="lib-folder-create"
                        disabled=move || busy.get() || name.with(|n| n.trim().is_empty())
                    >{move || i18n.t("library.create")}</button>
                </div>
            </form>
        </div>
    }
}
