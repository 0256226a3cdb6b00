//! The members of a conversation: who is in it, adding and removing people (owner and admins;
//! the relay checks), leaving, and archiving.

use super::shell::Channels;
use crate::api::{self, ApiFailure};
use crate::contexts::expect_session;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::acl::Role;
use qiao_model::api::{AddMember, ChannelSummary, ConversationKind, Directory, Member, MemberPage};
use qiao_model::ids::UserId;

/// Members per page: the relay pages and filters (a channel may have 10,000 members).
const PAGE: u32 = 100;

#[component]
pub fn MembersPanel(channel: ChannelSummary, open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let channels = expect_context::<Channels>();
    let me = expect_session().me.get_untracked().expect("logged in");
    let members = RwSignal::new(Vec::<Member>::new());
    // Everyone in the conversation, and how many match the filter.
    let count = RwSignal::new(channel.members);
    let matching = RwSignal::new(0u32);
    let next = RwSignal::new(None::<String>);
    let candidates = RwSignal::new(Vec::<(UserId, String)>::new());
    let error = RwSignal::new(None::<String>);
    let id = StoredValue::new(channel.id.clone());
    let filter = RwSignal::new(String::new());
    // Answers can arrive out of order while someone types: only the latest request's counts.
    let generation = StoredValue::new(0u64);
    // `more`: append the next page; otherwise start over (a new filter, or after a change).
    let load = move |more: bool| {
        let after = if more { next.get_untracked() } else { None };
        if more && after.is_none() {
            return;
        }
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let q = filter.get_untracked();
        let mut path = format!(
            "/api/channels/{}/members?limit={PAGE}&q={}",
            id.get_value(),
            String::from(js_sys::encode_uri_component(q.trim()))
        );
        if let Some(a) = after {
            path.push_str("&after=");
            path.push_str(&a);
        }
        leptos::task::spawn_local(async move {
            let r = api::get::<MemberPage>(&path).await;
            if generation.get_value() != mine {
                return;
            }
            match r {
                Ok(page) => {
                    error.set(None);
                    if q.trim().is_empty() {
                        count.set(page.total);
                    }
                    matching.set(page.total);
                    next.set(page.next);
                    if more {
                        members.update(|m| m.extend(page.members));
                    } else {
                        members.set(page.members);
                    }
                }
                Err(ApiFailure::Offline) => error.set(Some(i18n.t("members.offline"))),
                Err(f) => error.set(Some(f.message())),
            }
        });
    };
    let reload = move || load(false);
    reload();
    leptos::task::spawn_local(async move {
        if let Ok(d) = api::get::<Directory>("/api/directory").await {
            candidates.set(d.users.into_iter().map(|u| (u.id, u.name)).collect());
        }
    });
    let am_owner = Memo::new(move |_| members.with(|m| m.iter().any(|x| x.id == me.id && x.role == "owner")));
    let manage = move || {
        (am_owner.get() || me.role != Role::Employee) && channel.kind != ConversationKind::Dm && !channel.archived
    };
    let may_archive = channel.kind != ConversationKind::Dm && !channel.archived;
    let super_admin = me.role == Role::SuperAdmin;

    let act = move |fut: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiFailure>>>>| {
        leptos::task::spawn_local(async move {
            match fut.await {
                Ok(()) => {
                    error.set(None);
                    reload();
                }
                Err(ApiFailure::Offline) => error.set(Some(i18n.t("members.offline"))),
                Err(f) => error.set(Some(f.message())),
            }
        });
    };
    let remove = move |user: UserId| {
        let path = format!("/api/channels/{}/members/{user}", id.get_value());
        act(Box::pin(async move { api::delete(&path).await }));
        if user == me.id {
            channels.list.update(|l| l.retain(|c| c.id != id.get_value()));
            channels.selected.set(None);
            open.set(false);
        }
    };
    let add = move |user: UserId| {
        let path = format!("/api/channels/{}/members", id.get_value());
        act(Box::pin(async move { api::post_no_content(&path, &AddMember { user }).await }));
    };
    let archive = move || {
        let path = format!("/api/channels/{}/archive", id.get_value());
        act(Box::pin(async move { api::post_empty(&path).await }));
        channels.list.update(|l| {
            if let Some(c) = l.iter_mut().find(|c| c.id == id.get_value()) {
                c.archived = true;
            }
        });
    };
    let adding = RwSignal::new(String::new());

    view! {
        <aside class="members-panel" data-testid="members-panel">
            <header class="members-header">
                <h3>{move || i18n.tf("members.title", &[("n", count.get().to_string())])}</h3>
                <button class="icon-btn" aria-label=move || i18n.t("channel.cancel") on:click=move |_| open.set(false)>
                    <span class="icon icon-close" aria-hidden="true"></span>
                </button>
            </header>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Show when=move || { count.get() > PAGE || !filter.with(|f| f.is_empty()) }>
                <input
                    class="input"
                    type="search"
                    data-testid="members-filter"
                    placeholder=move || i18n.t("members.filter")
                    aria-label=move || i18n.t("members.filter")
                    prop:value=move || filter.get()
                    on:input=move |ev| {
                        filter.set(event_target_value(&ev));
                        load(false);
                    }
                />
            </Show>
            <ul class="members-list">
                <For
                    each=move || members.get()
                    key=|m| (m.id, m.role.clone())
                    children=move |m| {
                        let uid = m.id;
                        view! {
                            <li class="member" data-testid="member" data-username=m.username.clone()>
                                <span class="avatar avatar-sm">{m.display_name.chars().next().map(String::from).unwrap_or_default()}</span>
                                <span class="member-name">{m.display_name.clone()}</span>
                                {(m.role == "owner").then(|| view! { <span class="badge badge-muted">{move || i18n.t("members.owner")}</span> })}
                                <Show when=move || manage() && uid != me.id>
                                    <button class="btn btn-ghost btn-sm" data-testid="remove-member" on:click=move |_| remove(uid)>
                                        {move || i18n.t("members.remove")}
                                    </button>
                                </Show>
                            </li>
                        }
                    }
                />
            </ul>
            <Show when=move || next.with(|n| n.is_some())>
                <button class="btn btn-ghost btn-sm members-more" data-testid="members-more" on:click=move |_| load(true)>
                    {move || i18n.tf("members.more", &[
                        ("shown", members.with(|m| m.len()).to_string()),
                        ("total", matching.get().to_string()),
                    ])}
                </button>
            </Show>
            <Show when=manage>
                <div class="members-add">
                    <select class="select select-sm" data-testid="add-member-select" on:change=move |ev| adding.set(event_target_value(&ev))>
                        <option value="">{move || i18n.t("members.pick")}</option>
                        {move || {
                            let present: Vec<UserId> = members.with(|m| m.iter().map(|x| x.id).collect());
                            candidates
                                .get()
                                .into_iter()
                                .filter(|(u, _)| !present.contains(u))
                                .map(|(u, n)| view! { <option value=u.to_string()>{n}</option> })
                                .collect::<Vec<_>>()
                        }}
                    </select>
                    <button
                        class="btn btn-secondary btn-sm"
                        data-testid="add-member"
                        disabled=move || adding.with(|a| a.is_empty())
                        on:click=move |_| {
                            if let Ok(u) = adding.get_untracked().parse::<i64>() {
                                add(UserId(u));
                            }
                        }
                    >
                        {move || i18n.t("members.add")}
                    </button>
                </div>
            </Show>
            <div class="members-actions">
                <button class="btn btn-secondary btn-sm" data-testid="leave" on:click=move |_| remove(me.id)>
                    {move || i18n.t("members.leave")}
                </button>
                <Show when=move || may_archive && (am_owner.get() || super_admin)>
                    <button class="btn btn-danger btn-sm" data-testid="archive" on:click=move |_| archive()>
                        {move || i18n.t("members.archive")}
                    </button>
                </Show>
            </div>
        </aside>
    }
}
