//! The sidebar: connection state, channels, the user and the language.

use super::read_state::expect_read_state;
use super::shell::Channels;
use crate::contexts::{expect_repo, expect_session};
use crate::features::admin::{ConsoleButton, Page, expect_nav};
use crate::features::auth::login_page::LanguageSelect;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::acl::Module;
use qiao_model::api::{ChannelSummary, ConversationKind};

/// What a conversation is called in lists: its name, or the other person for a direct message.
pub fn display_name(c: &ChannelSummary) -> String {
    match (&c.dm_peer, c.kind) {
        (Some(p), ConversationKind::Dm) => p.display_name.clone(),
        _ => c.name.clone(),
    }
}

#[component]
pub fn Sidebar(
    sidebar_open: RwSignal<bool>,
    dialog_open: RwSignal<bool>,
    search_open: RwSignal<bool>,
    mentions_open: RwSignal<bool>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let session = expect_session();
    let repo = expect_repo();
    let channels = expect_context::<Channels>();
    let reads = expect_read_state();
    let presence = super::presence::expect_presence();
    let unread_mentions =
        Memo::new(move |_| channels.list.with(|l| l.iter().map(|c| reads.unread_mentions(c)).sum::<usize>()));
    let status = repo.with_value(|r| r.status);
    let me = session.me.get_untracked().expect("logged in");
    let nav = expect_nav();
    let modules = crate::modules::expect_modules();
    let projects = crate::features::tasks::expect_projects();
    let me_id = me.id;
    let overdue_tasks = Memo::new(move |_| crate::features::tasks::my_tasks::overdue_count(projects, me_id));
    let must_read = Memo::new(move |_| {
        let dept = crate::features::announcements::my_dept(me_id);
        crate::features::announcements::pending_count(repo, me_id, dept)
    });
    let initials: String = me.display_name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default();

    let logout = {
        move |_| {
            let repo = repo.get_value();
            leptos::task::spawn_local(async move {
                let _ = crate::api::post_empty("/api/auth/logout").await;
                repo.shut_down_and_wipe().await;
                session.me.set(None);
            });
        }
    };

    // One list per kind of conversation; "+" opens the new-conversation dialog.
    let section = move |kind: ConversationKind, title: &'static str, always: bool| {
        let items = Memo::new(move |_| {
            channels.list.with(|l| l.iter().filter(|c| c.kind == kind).cloned().collect::<Vec<_>>())
        });
        view! {
            <Show when=move || always || items.with(|i| !i.is_empty())>
                <div class="sidebar-section" data-testid=format!("section-{}", kind.as_str())>
                    <div class="sidebar-section-title">
                        <span>{move || i18n.t(title)}</span>
                        <button
                            class="icon-btn"
                            title=move || i18n.t("sidebar.new_channel")
                            aria-label=move || i18n.t("sidebar.new_channel")
                            data-testid="new-channel"
                            on:click=move |_| dialog_open.set(true)
                        >
                            <span class="icon icon-plus" aria-hidden="true"></span>
                        </button>
                    </div>
                    <nav class="channel-list" data-testid="channel-list">
                        <Show when=move || items.with(|l| l.is_empty())>
                            <p class="muted sidebar-empty">{move || i18n.t("sidebar.no_channels")}</p>
                        </Show>
                        <For
                            each=move || items.get()
                            key=|c| (c.id.clone(), c.name.clone(), c.archived)
                            children=move |c| {
                                let id = c.id.clone();
                                let id2 = c.id.clone();
                                let active = Memo::new(move |_| nav.page.get() == Page::Chat && channels.selected.get().as_ref() == Some(&id));
                                let label = display_name(&c);
                                let peer = c.dm_peer.as_ref().map(|p| p.id);
                                let online = Memo::new(move |_| peer.is_some_and(|u| presence.is_online(u)));
                                let summary = c.clone();
                                let summary2 = summary.clone();
                                let unread = Memo::new(move |_| reads.unread(&summary));
                                let mentioned = Memo::new(move |_| reads.unread_mentions(&summary2) > 0);
                                let muted_id = c.id.clone();
                                let muted = Memo::new(move |_| reads.muted(&muted_id));
                                let icon = match (c.kind, c.private) {
                                    (ConversationKind::Dm, _) => "channel-hash channel-dm",
                                    (_, true) => "channel-hash channel-lock",
                                    _ => "channel-hash",
                                };
                                view! {
                                    <a
                                        class="channel-item"
                                        class:active=move || active.get()
                                        class:archived=c.archived
                                        class:unread=move || { unread.get() > 0 }
                                        href="#"
                                        data-testid="channel-item"
                                        data-channel-name=label.clone()
                                        aria-current=move || if active.get() { "page" } else { "false" }
                                        on:click=move |ev| {
                                            ev.prevent_default();
                                            channels.select(id2.clone());
                                            sidebar_open.set(false);
                                        }
                                    >
                                        <span
                                            class=icon
                                            class:online=move || online.get()
                                            data-online=move || if online.get() { "true" } else { "false" }
                                            title=move || if peer.is_some() { i18n.t(if online.get() { "presence.online" } else { "presence.offline" }) } else { String::new() }
                                        >{if c.kind == ConversationKind::Channel && !c.private { "#" } else { "" }}</span>
                                        <span class="channel-name">{label.clone()}</span>
                                        <Show when=move || { unread.get() > 0 }>
                                            <span
                                                class="badge unread-badge"
                                                class:badge-mention=move || mentioned.get() && !muted.get()
                                                class:badge-muted=move || muted.get()
                                                data-testid="unread-badge"
                                                data-mention=move || if mentioned.get() { "true" } else { "false" }
                                            >
                                                {move || if mentioned.get() { "@" } else { "" }}
                                                {move || { let n = unread.get(); if n > 99 { "99+".to_string() } else { n.to_string() } }}
                                            </span>
                                        </Show>
                                    </a>
                                }
                            }
                        />
                    </nav>
                </div>
            </Show>
        }
    };

    view! {
        <aside class="sidebar" data-testid="sidebar">
            <div class="sidebar-header">
                <img class="brand-logo" src="/icons/icon.svg" alt="" />
                <span class="workspace-name">{move || i18n.t("app.name")}</span>
                <span
                    class="conn-status"
                    data-testid="conn-status"
                    data-state=move || status.get().as_str()
                    title=move || i18n.t(&format!("conn.{}", status.get().as_str()))
                >
                    {move || i18n.t(&format!("conn.{}", status.get().as_str()))}
                </span>
            </div>
            <button
                class="sidebar-search"
                data-testid="open-search"
                on:click=move |_| {
                    sidebar_open.set(false);
                    search_open.set(true);
                }
            >
                <span class="icon icon-search" aria-hidden="true"></span>
                <span>{move || i18n.t("search.open")}</span>
                <kbd class="kbd">"Ctrl K"</kbd>
            </button>
            <button
                class="sidebar-link"
                data-testid="open-mentions"
                on:click=move |_| {
                    sidebar_open.set(false);
                    mentions_open.set(true);
                }
            >
                <span class="sidebar-link-icon" aria-hidden="true">"@"</span>
                <span class="channel-name">{move || i18n.t("mentions.title")}</span>
                <Show when=move || { unread_mentions.get() > 0 }>
                    <span class="badge badge-mention" data-testid="mentions-count">{move || unread_mentions.get()}</span>
                </Show>
            </button>
            <Show when=move || modules.on(Module::Announcements)>
                <button
                    class="sidebar-link"
                    class:active=move || nav.page.get() == Page::Announcements
                    data-testid="open-announcements"
                    on:click=move |_| {
                        sidebar_open.set(false);
                        nav.page.set(Page::Announcements);
                    }
                >
                    <span class="sidebar-link-icon" aria-hidden="true">"📢"</span>
                    <span class="channel-name">{move || i18n.t("ann.title")}</span>
                    <Show when=move || { must_read.get() > 0 }>
                        <span class="badge badge-mention" data-testid="ann-pending" title=move || i18n.t("ann.pending")>{move || must_read.get()}</span>
                    </Show>
                </button>
            </Show>
            <Show when=move || modules.on(Module::Suggestions)>
                <button
                    class="sidebar-link"
                    class:active=move || nav.page.get() == Page::Feedback
                    data-testid="open-feedback"
                    on:click=move |_| {
                        sidebar_open.set(false);
                        nav.page.set(Page::Feedback);
                    }
                >
                    <span class="sidebar-link-icon" aria-hidden="true">"💡"</span>
                    <span class="channel-name">{move || i18n.t("feedback.title")}</span>
                </button>
            </Show>
            <Show when=move || modules.on(Module::Helpdesk)>
                {
                    let hd = crate::features::helpdesk::expect_helpdesk();
                    let pending = Memo::new(move |_| hd.badge(me_id));
                    view! {
                        <button
                            class="sidebar-link"
                            class:active=move || nav.page.get() == Page::Helpdesk
                            data-testid="open-helpdesk"
                            on:click=move |_| {
                                sidebar_open.set(false);
                                nav.page.set(Page::Helpdesk);
                            }
                        >
                            <span class="sidebar-link-icon" aria-hidden="true">"🛠"</span>
                            <span class="channel-name">{move || i18n.t("helpdesk.title")}</span>
                            <Show when=move || { pending.get() > 0 }>
                                <span class="badge badge-mention" data-testid="hd-pending"
                                    title=move || i18n.t(if hd.agent() { "helpdesk.badge_agent" } else { "helpdesk.badge_requester" })
                                >{move || pending.get()}</span>
                            </Show>
                        </button>
                    }
                }
            </Show>
            <Show when=move || modules.on(Module::Files)>
                <button
                    class="sidebar-link"
                    class:active=move || nav.page.get() == Page::Library
                    data-testid="open-library"
                    on:click=move |_| {
                        sidebar_open.set(false);
                        nav.page.set(Page::Library);
                    }
                >
                    <span class="sidebar-link-icon" aria-hidden="true">"📁"</span>
                    <span class="channel-name">{move || i18n.t("library.title")}</span>
                    {
                        // Files waiting for this person's approval.
                        let lib = crate::features::library::expect_library();
                        let waiting = Memo::new(move |_| lib.lib.with(|l| l.folders.iter().map(|f| f.pending).sum::<u32>()));
                        view! {
                            <Show when=move || { waiting.get() > 0 }>
                                <span class="badge badge-mention" data-testid="lib-pending" title=move || i18n.t("library.badge")>{move || waiting.get()}</span>
                            </Show>
                        }
                    }
                </button>
            </Show>
            <Show when=move || modules.on(Module::Kb)>
                <button
                    class="sidebar-link"
                    class:active=move || nav.page.get() == Page::Kb
                    data-testid="open-kb"
                    on:click=move |_| {
                        sidebar_open.set(false);
                        nav.page.set(Page::Kb);
                    }
                >
                    <span class="sidebar-link-icon" aria-hidden="true">"📚"</span>
                    <span class="channel-name">{move || i18n.t("kb.title")}</span>
                </button>
            </Show>
            <Show when=move || modules.on(Module::Tasks)>
                <button
                    class="sidebar-link"
                    class:active=move || nav.page.get() == Page::Tasks
                    data-testid="open-tasks"
                    on:click=move |_| {
                        sidebar_open.set(false);
                        nav.page.set(Page::Tasks);
                    }
                >
                    <span class="sidebar-link-icon" aria-hidden="true">"✓"</span>
                    <span class="channel-name">{move || i18n.t("tasks.title")}</span>
                    <Show when=move || { overdue_tasks.get() > 0 }>
                        <span class="badge badge-mention" data-testid="overdue-count" title=move || i18n.t("tasks.my.overdue")>{move || overdue_tasks.get()}</span>
                    </Show>
                </button>
            </Show>
            {section(ConversationKind::Channel, "sidebar.channels", true)}
            {section(ConversationKind::Group, "sidebar.groups", false)}
            {section(ConversationKind::Dm, "sidebar.dms", false)}
            <super::notify::NotifyPrompt />
            <div class="sidebar-footer">
                <ConsoleButton sidebar_open=sidebar_open />
                <div class="user-chip">
                    <span class="avatar">{initials}</span>
                    <span class="user-name" data-testid="user-name">{me.display_name.clone()}</span>
                </div>
                <LanguageSelect small=true />
                <button
                    class="icon-btn"
                    title=move || i18n.t("sidebar.logout")
                    aria-label=move || i18n.t("sidebar.logout")
                    data-testid="logout"
                    on:click=logout
                >
                    <span class="icon icon-logout" aria-hidden="true"></span>
                </button>
            </div>
        </aside>
    }
}
