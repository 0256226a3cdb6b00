//! The logged-in app: sidebar of channels, the open channel, banners for offline and updates.

use super::channel_dialog::ChannelDialog;
use super::channel_view::ChannelView;
use super::read_state::ReadState;
use super::search_panel::{FocusMessage, SearchPanel};
use super::sidebar::Sidebar;
use crate::api;
use crate::contexts::{expect_session, provide_repo};
use crate::features::admin::{Page, admin_page::AdminPage, provide_nav};
use crate::i18n::expect_i18n;
use crate::storage;
use crate::sync::repo::{ConnStatus, Repo};
use leptos::prelude::*;
use qiao_model::api::ChannelSummary;
use qiao_model::ids::ChannelId;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The channel list, cached for offline starts.
#[derive(Clone, Copy)]
pub struct Channels {
    pub list: RwSignal<Vec<ChannelSummary>>,
    pub selected: RwSignal<Option<ChannelId>>,
}

impl Channels {
    pub fn select(&self, id: ChannelId) {
        storage::set("qiao.channel", id.as_str());
        self.selected.set(Some(id));
    }
    pub fn add(&self, c: ChannelSummary) {
        self.list.update(|l| {
            if !l.iter().any(|x| x.id == c.id) {
                l.push(c.clone());
            }
        });
        storage::set_json("qiao.channels", &self.list.get_untracked());
        self.select(c.id);
    }
}

async fn refresh_channels(channels: Channels, repo: Repo) {
    if let Ok(list) = api::get::<Vec<ChannelSummary>>("/api/channels").await {
        // Conversations that are gone (removed from, or no longer readable): wipe their copies.
        let gone: Vec<ChannelSummary> =
            channels.list.get_untracked().into_iter().filter(|c| !list.iter().any(|n| n.id == c.id)).collect();
        for c in gone {
            for n in 0..=c.head_segment + 3 {
                repo.forget(qiao_model::schema::chat::segment_id(&c.id, n)).await;
            }
            storage::remove(&super::read_state::local_head_key(&c.id));
        }
        storage::set_json("qiao.channels", &list);
        let keep = channels.selected.get_untracked().filter(|s| list.iter().any(|c| &c.id == s));
        if channels.list.get_untracked() != list {
            channels.list.set(list.clone());
        }
        if keep.is_none() {
            if let Some(first) = list.first() {
                channels.select(first.id.clone());
            }
        }
    }
}

#[component]
pub fn Shell() -> impl IntoView {
    let i18n = expect_i18n();
    let session = expect_session();
    let me = session.me.get_untracked().expect("Shell is shown only when logged in");
    let repo = Repo::start(&me);
    provide_repo(repo.clone());

    let list = storage::get_json::<Vec<ChannelSummary>>("qiao.channels").unwrap_or_default();
    let selected = storage::get("qiao.channel").map(ChannelId).filter(|s| list.iter().any(|c| &c.id == s));
    let selected = selected.or_else(|| list.first().map(|c| c.id.clone()));
    let channels = Channels { list: RwSignal::new(list), selected: RwSignal::new(selected) };
    provide_context(channels);
    let reads = ReadState::provide(crate::contexts::expect_repo(), me.id);
    super::people::People::provide(crate::contexts::expect_repo());
    let toasts = super::notify::watch(channels, reads, crate::contexts::expect_repo(), me.id);
    // Before the uploads: a file queued for a library folder lists the folder again once there.
    crate::features::library::LibraryState::provide(&me, repo.status);
    let uploads = super::uploads::Uploads::provide(crate::contexts::expect_repo(), channels, me.clone());
    super::presence::Presence::provide(crate::contexts::expect_repo(), channels, me.id);
    crate::modules::provide(repo.status);
    let projects = crate::features::tasks::Projects::provide(crate::contexts::expect_repo());
    crate::features::kb::Kb::provide(crate::contexts::expect_repo());
    crate::features::announcements::provide(crate::contexts::expect_repo());
    crate::features::feedback::surveys::provide(crate::contexts::expect_repo());
    crate::features::feedback::suggestions::provide(crate::contexts::expect_repo(), me.id);
    crate::features::helpdesk::Helpdesk::provide(crate::contexts::expect_repo());
    // The tab's title counts what is unread, as a mail or chat tab does.
    Effect::new(move |_| {
        let total: usize = channels.list.with(|l| l.iter().map(|c| reads.unread(c)).sum());
        let name = i18n.t("app.name");
        let title = if total > 0 { format!("({total}) {name}") } else { name };
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            d.set_title(&title);
        }
    });

    // Refresh the channel list whenever the relay (re)connects.
    let status = repo.status;
    // Refreshes coalesce: while one is in flight, any number of requests make one more after it.
    let refreshing = StoredValue::new((false, false));
    let refresh = {
        let repo = repo.clone();
        move |_force: bool| {
            let (in_flight, _) = refreshing.get_value();
            if in_flight {
                refreshing.set_value((true, true));
                return;
            }
            refreshing.set_value((true, false));
            let repo = repo.clone();
            leptos::task::spawn_local(async move {
                loop {
                    refresh_channels(channels, repo.clone()).await;
                    let (_, again) = refreshing.get_value();
                    if !again {
                        break;
                    }
                    refreshing.set_value((true, false));
                }
                refreshing.set_value((false, false));
            });
        }
    };
    {
        let refresh = refresh.clone();
        Effect::new(move |_| {
            if status.get() == ConnStatus::Online {
                refresh(true);
                uploads.pump();
            }
        });
    }
    // The relay refused a document: perhaps we were removed from its conversation.
    let unavailable = repo.unavailable;
    Effect::new(move |_| {
        if unavailable.get().is_some() {
            refresh(false);
        }
    });
    // Offline-cache expiry: past the policy's days without contact, wipe and log out.
    {
        let repo = repo.clone();
        let wiped = use_context::<crate::cache_expiry::Wiped>();
        crate::cache_expiry::watch(status, move |days| {
            let repo = repo.clone();
            leptos::task::spawn_local(async move {
                repo.shut_down_and_wipe().await;
                storage::set(crate::cache_expiry::WIPED_NOTICE, &days.to_string());
                if let Some(w) = wiped {
                    w.0.set(Some(days.to_string()));
                }
                session.me.set(None);
            });
        });
    }
    // The relay ended this session (logged out on another device, revoked): back to login.
    let ended = repo.session_ended;
    Effect::new(move |_| {
        if ended.get() {
            storage::remove("qiao.me");
            session.me.set(None);
        }
    });

    let saving = repo.saving;
    let sidebar_open = RwSignal::new(false);
    let dialog_open = RwSignal::new(false);
    let search_open = RwSignal::new(false);
    let mentions_open = RwSignal::new(false);
    provide_context(FocusMessage(RwSignal::new(None)));
    let repo_ref = crate::contexts::expect_repo();
    // Every channel's newest segment is opened up front: switching is instant and search covers
    // what the browser holds.
    Effect::new(move |_| {
        let list = channels.list.get();
        let repo = repo_ref.get_value();
        leptos::task::spawn_local(async move {
            for c in list {
                let id = qiao_model::schema::chat::segment_id(&c.id, c.head_segment);
                let ch = c.id.clone();
                let n = c.head_segment;
                repo.open(id, move || qiao_model::schema::chat::genesis(&ch, n)).await;
            }
        });
    });
    let update_ready = RwSignal::new(false);
    listen_for_update(update_ready);
    install_shortcuts(channels, search_open);

    let current = Memo::new(move |_| channels.selected.get());
    // The admin console replaces the channel view. Picking a channel (sidebar, search,
    // shortcuts; the same one again too) goes back to the chat, but the first automatic
    // selection after login does not.
    let nav = provide_nav();
    let reminders = crate::features::tasks::reminders::watch(projects, me.id);
    crate::push::start(nav, channels, projects);
    // Memoised: `nav.page` is set again whenever a channel is picked, and re-rendering the page
    // would mount the open conversation twice (the second mount would find it already read).
    let page = Memo::new(move |_| nav.page.get());
    Effect::new(move |prev: Option<bool>| {
        let selected = channels.selected.with(|s| s.is_some());
        if prev == Some(true) {
            nav.page.set(Page::Chat);
        }
        selected
    });
    view! {
        <div
            class="app-shell"
            class:sidebar-open=move || sidebar_open.get()
            data-saving=move || if saving.get() { "true" } else { "false" }
        >
            <Sidebar sidebar_open=sidebar_open dialog_open=dialog_open search_open=search_open mentions_open=mentions_open />
            <main class="chat-pane">
                <Show when=move || status.get() == ConnStatus::Offline>
                    <div class="banner banner-warning" role="status" data-testid="offline-banner">
                        {move || i18n.t("banner.offline")}
                    </div>
                </Show>
                <Show when=move || update_ready.get()>
                    <div class="banner banner-info" role="status">
                        <span>{move || i18n.t("banner.update")}</span>
                        <button class="btn btn-sm" on:click=move |_| apply_update()>
                            {move || i18n.t("banner.update_action")}
                        </button>
                    </div>
                </Show>
                {move || match page.get() {
                    Page::Admin => view! { <AdminPage sidebar_open=sidebar_open /> }.into_any(),
                    Page::Tasks => view! { <crate::features::tasks::page::TasksPage sidebar_open=sidebar_open /> }.into_any(),
                    Page::Kb => view! { <crate::features::kb::page::KbPage sidebar_open=sidebar_open /> }.into_any(),
                    Page::Announcements => view! { <crate::features::announcements::AnnouncementsPage sidebar_open=sidebar_open /> }.into_any(),
                    Page::Feedback => view! { <crate::features::feedback::FeedbackPage sidebar_open=sidebar_open /> }.into_any(),
                    Page::Helpdesk => view! { <crate::features::helpdesk::HelpdeskPage sidebar_open=sidebar_open /> }.into_any(),
                    Page::Library => view! { <crate::features::library::LibraryPage sidebar_open=sidebar_open /> }.into_any(),
                    Page::Chat => view! {
                {move || {
                    let id = current.get();
                    let summary = id
                        .as_ref()
                        .and_then(|id| channels.list.get_untracked().into_iter().find(|c| &c.id == id));
                    match summary {
                        Some(c) => view! { <ChannelView channel=c sidebar_open=sidebar_open /> }.into_any(),
                        None => {
                            view! {
                                <div class="empty-state">
                                    <h3>{move || i18n.t("chat.pick_channel_title")}</h3>
                                    <p>{move || i18n.t("chat.pick_channel_body")}</p>
                                </div>
                            }
                                .into_any()
                        }
                    }
                }}
                    }.into_any(),
                }}
            </main>
            <Show when=move || dialog_open.get()>
                <ChannelDialog open=dialog_open />
            </Show>
            <Show when=move || search_open.get()>
                <SearchPanel open=search_open repo=repo_ref />
            </Show>
            <super::notify::Toasts toasts=toasts />
            <crate::features::tasks::reminders::ReminderToasts reminders=reminders projects=projects />
            <Show when=move || projects.from_message.with(|f| f.is_some())>
                <crate::features::tasks::from_message::MakeTaskDialog />
            </Show>
            <Show when=move || mentions_open.get()>
                <super::mentions_panel::MentionsPanel open=mentions_open repo=repo_ref me=me.id />
            </Show>
            <div class="sidebar-backdrop" on:click=move |_| sidebar_open.set(false)></div>
        </div>
    }
}

/// `public/sw-register.js` fires `qiao:update-ready` when a new version is waiting.
fn listen_for_update(flag: RwSignal<bool>) {
    let Some(w) = web_sys::window() else { return };
    // The event may have fired before the app mounted.
    if js_sys::Reflect::get(&w, &JsValue::from_str("qiaoUpdateReady")).is_ok_and(|v| v.is_truthy()) {
        flag.set(true);
    }
    let cb = Closure::<dyn FnMut()>::new(move || flag.set(true));
    let _ = w.add_event_listener_with_callback("qiao:update-ready", cb.as_ref().unchecked_ref());
    cb.forget();
}

fn apply_update() {
    if let Some(w) = web_sys::window()
        && let Ok(f) = js_sys::Reflect::get(&w, &JsValue::from_str("qiaoApplyUpdate"))
        && let Some(f) = f.dyn_ref::<js_sys::Function>()
    {
        let _ = f.call0(&w);
        return;
    }
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// Ctrl/⌘+K opens search; Alt+↑ / Alt+↓ move between channels; `/` focuses the composer.
fn install_shortcuts(channels: Channels, search_open: RwSignal<bool>) {
    let Some(w) = web_sys::window() else { return };
    let cb = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |ev: web_sys::KeyboardEvent| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("k") {
            ev.prevent_default();
            search_open.set(true);
        } else if ev.alt_key() && (ev.key() == "ArrowUp" || ev.key() == "ArrowDown") {
            ev.prevent_default();
            let list = channels.list.get_untracked();
            if list.is_empty() {
                return;
            }
            let cur = channels.selected.get_untracked();
            let i = cur.and_then(|c| list.iter().position(|x| x.id == c)).unwrap_or(0);
            let next = if ev.key() == "ArrowUp" { (i + list.len() - 1) % list.len() } else { (i + 1) % list.len() };
            channels.select(list[next].id.clone());
        } else if ev.key() == "/" && !in_text_field(&ev) {
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(".composer-input").ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                ev.prevent_default();
                let _ = el.focus();
            }
        }
    });
    let _ = w.add_event_listener_with_callback("keydown", cb.as_ref().unchecked_ref());
    cb.forget();
}

fn in_text_field(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .map(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
        .unwrap_or(false)
}
