//! "New conversation": a channel (public or private), a group of chosen people, or a direct
//! message. Needs the network: the relay assigns the conversation and its access list. The
//! people to pick come from the directory.

use super::shell::Channels;
use crate::api::{self, ApiFailure};
use crate::i18n::expect_i18n;
use leptos::html::Input;
use leptos::prelude::*;
use qiao_model::api::{ChannelSummary, ConversationKind, CreateChannel, Directory, DirectoryUser, OpenDm};
use qiao_model::ids::UserId;

#[component]
pub fn ChannelDialog(open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let channels = expect_context::<Channels>();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id);
    let kind = RwSignal::new(ConversationKind::Channel);
    let name = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let picked = RwSignal::new(Vec::<UserId>::new());
    let filter = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let people = RwSignal::new(Vec::<DirectoryUser>::new());
    let input_ref: NodeRef<Input> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = input_ref.get() {
            let _ = el.focus();
        }
    });
    leptos::task::spawn_local(async move {
        if let Ok(d) = api::get::<Directory>("/api/directory").await {
            people.set(
                d.users
                    .into_iter()
                    .filter(|u| Some(u.id) != me && u.status == qiao_model::api::UserStatus::Active)
                    .collect(),
            );
        }
    });
    let shown = Memo::new(move |_| {
        let f = filter.get().to_lowercase();
        people.with(|p| {
            p.iter()
                .filter(|u| {
                    f.is_empty() || u.name.to_lowercase().contains(&f) || u.username.to_lowercase().contains(&f)
                })
                .take(50)
                .cloned()
                .collect::<Vec<_>>()
        })
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let k = kind.get_untracked();
        let picked_now = picked.get_untracked();
        let req = CreateChannel {
            name: name.get_untracked(),
            private: private.get_untracked(),
            kind: k,
            members: picked_now.clone(),
        };
        leptos::task::spawn_local(async move {
            let result = match k {
                ConversationKind::Dm => match picked_now.first() {
                    Some(u) => api::post::<_, ChannelSummary>("/api/dms", &OpenDm { user: *u }).await,
                    None => {
                        error.set(Some(i18n.t("channel.pick_person")));
                        busy.set(false);
                        return;
                    }
                },
                _ => api::post::<_, ChannelSummary>("/api/channels", &req).await,
            };
            match result {
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

    let toggle = move |u: UserId| {
        picked.update(|p| {
            if kind.get_untracked() == ConversationKind::Dm {
                *p = vec![u];
            } else if let Some(i) = p.iter().position(|x| *x == u) {
                p.remove(i);
            } else {
                p.push(u);
            }
        })
    };

    let tab = move |k: ConversationKind, key: &'static str| {
        view! {
            <button
                type="button"
                class="tab"
                class:tab-active=move || kind.get() == k
                data-testid=format!("new-{}", k.as_str())
                on:click=move |_| {
                    kind.set(k);
                    picked.set(Vec::new());
                }
            >
                {move || i18n.t(key)}
            </button>
        }
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
                <div class="tabs">
                    {tab(ConversationKind::Channel, "channel.kind_channel")}
                    {tab(ConversationKind::Group, "channel.kind_group")}
                    {tab(ConversationKind::Dm, "channel.kind_dm")}
                </div>
                <div class="modal-body">
                    <Show when=move || kind.get() != ConversationKind::Dm>
                        <label class="field">
                            <span class="field-label">{move || i18n.t("channel.name")}</span>
                            <input
                                class="input"
                                node_ref=input_ref
                                maxlength="80"
                                data-testid="channel-name"
                                prop:value=move || name.get()
                                on:input=move |ev| name.set(event_target_value(&ev))
                            />
                        </label>
                    </Show>
                    <Show when=move || kind.get() == ConversationKind::Channel>
                        <label class="checkbox">
                            <input
                                type="checkbox"
                                prop:checked=move || private.get()
                                on:change=move |ev| private.set(event_target_checked(&ev))
                            />
                            <span>{move || i18n.t("channel.private")}</span>
                        </label>
                    </Show>
                    <Show when=move || kind.get() != ConversationKind::Channel>
                        <div class="people-picker">
                            <input
                                class="input"
                                type="search"
                                data-testid="people-filter"
                                placeholder=move || i18n.t("channel.find_people")
                                prop:value=move || filter.get()
                                on:input=move |ev| filter.set(event_target_value(&ev))
                            />
                            <Show when=move || people.with(|p| p.is_empty())>
                                <p class="muted">{move || i18n.t("channel.no_people")}</p>
                            </Show>
                            <div class="people-list">
                                <For
                                    each=move || shown.get()
                                    key=|u| u.id
                                    children=move |u| {
                                        let id = u.id;
                                        view! {
                                            <label class="person" data-testid="person" data-username=u.username.clone()>
                                                <input
                                                    type=move || if kind.get() == ConversationKind::Dm { "radio" } else { "checkbox" }
                                                    name="person"
                                                    prop:checked=move || picked.with(|p| p.contains(&id))
                                                    on:change=move |_| toggle(id)
                                                />
                                                <span class="avatar avatar-sm">{u.name.chars().next().map(String::from).unwrap_or_default()}</span>
                                                <span>{u.name.clone()}</span>
                                                <span class="muted">{u.position.clone()}</span>
                                            </label>
                                        }
                                    }
                                />
                            </div>
                            <Show when=move || kind.get() == ConversationKind::Group>
                                <p class="field-hint">{move || i18n.tf("channel.group_hint", &[("n", (picked.with(|p| p.len()) + 1).to_string())])}</p>
                            </Show>
                        </div>
                    </Show>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>
                        {move || i18n.t("channel.cancel")}
                    </button>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="channel-create">
                        {move || i18n.t(if kind.get() == ConversationKind::Dm { "channel.open_dm" } else { "channel.create" })}
                    </button>
                </div>
            </form>
        </div>
    }
}
