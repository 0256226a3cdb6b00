//! The new-ticket form (提交报修): category, title, description, files.
//!
//! The ticket goes into the outbox first ([`super::Helpdesk::submit`]), so closing the tab or
//! losing the network loses nothing; online it is created at once. Files need the relay (they
//! are uploaded into the ticket once it exists, resumable like chat files): offline the picker
//! says so, and files can be added to the ticket later.

use super::expect_helpdesk;
use crate::contexts::expect_repo;
use crate::i18n::expect_i18n;
use crate::sync::repo::ConnStatus;
use leptos::prelude::*;
use qiao_model::schema::helpdesk::{CATEGORIES, CreateTicket, MAX_TITLE_CHARS};

#[component]
pub fn NewTicket(open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let h = expect_helpdesk();
    let repo = expect_repo();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let status = repo.with_value(|r| r.status);
    let online = Memo::new(move |_| status.get() == ConnStatus::Online);
    let category = RwSignal::new(CATEGORIES[0].to_string());
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let files = StoredValue::new_local(Vec::<web_sys::File>::new());
    let file_names = RwSignal::new(Vec::<String>::new());
    let busy = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<leptos::html::Input>::new();

    let on_pick = move |_| {
        let Some(el) = input.get() else { return };
        let Some(list) = el.files() else { return };
        let picked: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        file_names.set(picked.iter().map(|f| f.name()).collect());
        files.set_value(picked);
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked().is_some() {
            return;
        }
        let req = CreateTicket {
            title: title.get_untracked().trim().to_string(),
            category: category.get_untracked(),
            description: description.get_untracked().trim().to_string(),
            client_key: crate::storage::random_hex::<12>(),
        };
        if req.title.is_empty() {
            error.set(Some(i18n.t("helpdesk.title_required")));
            return;
        }
        let key = h.submit(req);
        let picked = files.get_value();
        if picked.is_empty() || !online.get_untracked() {
            open.set(false);
            return;
        }
        // Wait for the relay to create it, then send the files into it.
        busy.set(Some(i18n.t("helpdesk.sending")));
        let r = repo.get_value();
        leptos::task::spawn_local(async move {
            let mut created = None;
            for _ in 0..100 {
                created = h.created(&key);
                if created.is_some() {
                    break;
                }
                crate::storage::sleep_ms(150).await;
            }
            let Some(t) = created else {
                busy.set(None);
                error.set(Some(i18n.t("helpdesk.files_later")));
                return;
            };
            for file in picked {
                let name = file.name();
                busy.set(Some(i18n.tf("helpdesk.uploading", &[("name", name)])));
                if let Err(why) = super::ticket::attach(r.clone(), me, &t, file, |_| {}).await {
                    busy.set(None);
                    error.set(Some(why.unwrap_or_else(|| i18n.t("helpdesk.files_later"))));
                    return;
                }
            }
            busy.set(None);
            open.set(false);
        });
    };

    view! {
        <div class="modal-backdrop" on:click=move |_| if busy.get_untracked().is_none() { open.set(false) }>
            <form class="modal hd-new-dialog" role="dialog" aria-modal="true" data-testid="hd-dialog"
                on:click=|ev| ev.stop_propagation()
                on:submit=submit
                on:keydown=move |ev| if ev.key() == "Escape" && busy.get_untracked().is_none() { open.set(false) }
            >
                <h3 class="modal-title">{move || i18n.t("helpdesk.new_title")}</h3>
                <div class="modal-body">
                    <div class="field">
                        <span class="field-label">{move || i18n.t("helpdesk.category")}</span>
                        <div class="hd-categories" role="radiogroup" data-testid="hd-category">
                            {CATEGORIES.into_iter().map(|c| view! {
                                <button type="button" class="chip-filter" role="radio" data-testid="hd-category-option" data-category=c
                                    aria-checked=move || (category.get() == c).to_string()
                                    aria-selected=move || (category.get() == c).to_string()
                                    on:click=move |_| category.set(c.to_string())
                                >{move || super::category_label(i18n, c)}</button>
                            }).collect_view()}
                        </div>
                    </div>
                    <label class="field">
                        <span class="field-label">{move || i18n.t("helpdesk.ticket_title")}</span>
                        <input class="input" maxlength=MAX_TITLE_CHARS.to_string() autofocus data-testid="hd-title"
                            placeholder=move || i18n.t("helpdesk.title_placeholder")
                            prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
                    </label>
                    <label class="field">
                        <span class="field-label">{move || i18n.t("helpdesk.description")}</span>
                        <textarea class="textarea" rows="5" maxlength="10000" data-testid="hd-description-input"
                            placeholder=move || i18n.t("helpdesk.description_placeholder")
                            prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                    </label>
                    <div class="field">
                        <span class="field-label">{move || i18n.t("helpdesk.files")}</span>
                        <label class="btn btn-secondary btn-sm hd-file-add" class:btn-disabled=move || !online.get()>
                            {move || i18n.t("helpdesk.attach")}
                            <input type="file" multiple class="sr-only" data-testid="hd-new-files" node_ref=input
                                disabled=move || !online.get() on:change=on_pick />
                        </label>
                        <span class="field-hint">{move || {
                            let names = file_names.get();
                            if !online.get() { i18n.t("helpdesk.files_offline_hint") }
                            else if names.is_empty() { i18n.t("helpdesk.files_hint") }
                            else { names.join("、") }
                        }}</span>
                    </div>
                    <Show when=move || !online.get()>
                        <p class="hd-offline-note" role="status">{move || i18n.t("helpdesk.offline_note")}</p>
                    </Show>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    {move || busy.get().map(|b| view! { <p class="muted" role="status">{b}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" disabled=move || busy.get().is_some()
                        on:click=move |_| open.set(false)>{move || i18n.t("channel.cancel")}</button>
                    <button type="submit" class="btn btn-primary" data-testid="hd-submit"
                        disabled=move || busy.get().is_some() || title.with(|t| t.trim().is_empty())
                    >{move || i18n.t("helpdesk.submit")}</button>
                </div>
            </form>
        </div>
    }
}
