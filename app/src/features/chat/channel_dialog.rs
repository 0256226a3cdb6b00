//! "New channel": a name and whether it is private. Needs the network (the relay assigns the
//! channel and its access list).

use super::shell::Channels;
use crate::api::{self, ApiFailure};
use crate::i18n::expect_i18n;
use leptos::html::Input;
use leptos::prelude::*;
use qiao_model::api::{ChannelSummary, CreateChannel};

#[component]
pub fn ChannelDialog(open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let channels = expect_context::<Channels>();
    let name = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let input_ref: NodeRef<Input> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = input_ref.get() {
            let _ = el.focus();
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let req = CreateChannel { name: name.get_untracked(), private: private.get_untracked() };
        leptos::task::spawn_local(async move {
            match api::post::<_, ChannelSummary>("/api/channels", &req).await {
                Ok(c) => {
                    channels.add(c);
                    open.set(false);
                }
                Err(ApiFailure::Offline) => error.set(Some(i18n.t("channel.offline"))),
                Err(f) => error.set(Some(f.message())),
            }
            busy.set(false);
        });
    };

    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <form
                class="modal"
                role="dialog"
                aria-modal="true"
                on:click=|ev| ev.stop_propagation()
                on:submit=submit
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        open.set(false);
                    }
                }
                data-testid="channel-dialog"
            >
                <h3 class="modal-title">{move || i18n.t("channel.create_title")}</h3>
                <div class="modal-body">
                    <label class="field">
                        <span class="field-label">{move || i18n.t("channel.name")}</span>
                        <input
                            class="input"
                            node_ref=input_ref
                            maxlength="80"
                            required
                            data-testid="channel-name"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            prop:checked=move || private.get()
                            on:change=move |ev| private.set(event_target_checked(&ev))
                        />
                        <span>{move || i18n.t("channel.private")}</span>
                    </label>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>
                        {move || i18n.t("channel.cancel")}
                    </button>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="channel-create">
                        {move || i18n.t("channel.create")}
                    </button>
                </div>
            </form>
        </div>
    }
}
