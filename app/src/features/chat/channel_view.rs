//! One open channel: which segment documents are open, the message list and the composer.
//!
//! The view opens only the newest segment and the one before it, so a channel with years of
//! history opens as fast as a new one; "load earlier" opens older segments one at a time. When
//! the newest segment is full, writers move to the next one (see `qiao_model::schema::chat`).

use super::composer::Composer;
use super::members_panel::MembersPanel;
use super::message_list::MessageList;
use crate::contexts::{RepoRef, expect_repo, expect_session};
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::ChannelSummary;
use qiao_model::ids::{ChannelId, DocumentId};
use qiao_model::schema::chat::{self, ChatMessage, SEGMENT_CAPACITY};
use std::collections::HashMap;
use std::sync::Arc;

/// Read receipts are kept in conversations of at most this many people.
pub const RECEIPTS_UP_TO: u32 = 20;

/// How far the others have read, for the 已读 marks under one's own messages.
#[derive(Clone, Copy)]
pub struct Receipts {
    pub furthest: Memo<std::collections::BTreeMap<qiao_model::ids::UserId, i64>>,
    pub small: bool,
    pub dm: bool,
}

/// What a message's buttons need: the repository, who is acting, and the composer's modes.
#[derive(Clone, Copy)]
pub struct ChatActions {
    pub repo: RepoRef,
    /// Admins may delete others' messages (the relay enforces the same rule).
    pub moderator: bool,
    /// The message the composer replies to: (message id, author name).
    pub reply_to: RwSignal<Option<(String, String)>>,
    /// The message being edited in place.
    pub editing: RwSignal<Option<String>>,
    /// The message whose thread is open beside the conversation.
    pub thread: RwSignal<Option<String>>,
    /// The message being forwarded (the dialog is open while set).
    pub forwarding: RwSignal<Option<super::forward_dialog::Forwarding>>,
    /// This conversation's name, for "forwarded from".
    pub name: StoredValue<String>,
}

impl ChatActions {
    /// Apply a chat operation to the segment holding the message.
    pub fn apply(&self, doc: DocumentId, f: impl FnOnce(&mut automerge::AutoCommit) -> Result<(), chat::ChatError>) {
        self.repo.with_value(|r| r.change(doc, f));
    }
}

/// Messages that fill a screen: fewer than this in the newest segment and the one before opens too.
const SCREENFUL: usize = 50;

/// The segments of a channel open in this view, oldest first.
#[derive(Clone, Copy)]
pub struct Segments {
    repo: RepoRef,
    pub channel: StoredValue<ChannelId>,
    pub open: RwSignal<Vec<(u32, DocumentId)>>,
    pub loading: RwSignal<bool>,
}

impl Segments {
    /// Open segment `n` (from IndexedDB or genesis) and add it to the view.
    pub async fn open_segment(self, n: u32) -> DocumentId {
        let repo = self.repo.get_value();
        let channel = self.channel.get_value();
        let id = chat::segment_id(&channel, n);
        repo.open(id, || chat::genesis(&channel, n)).await;
        self.open.update(|v| {
            if !v.iter().any(|(m, _)| *m == n) {
                v.push((n, id));
                v.sort_by_key(|(m, _)| *m);
            }
        });
        id
    }

    /// The segment a new message goes into, opening the next one when the newest is full.
    pub async fn writable(self) -> Option<DocumentId> {
        let repo = self.repo.get_value();
        let (n, id) = *self.open.get_untracked().last()?;
        let count = repo.read_untracked(id, chat::message_count).unwrap_or(0);
        if count < SEGMENT_CAPACITY {
            return Some(id);
        }
        let next = self.open_segment(n + 1).await;
        storage::set(&super::read_state::local_head_key(&self.channel.get_value()), &(n + 1).to_string());
        Some(next)
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `performance.mark(name)`: a point on the page's timeline that `PerformanceObserver`s and
    /// the DevTools timeline see. `scripts/bench-chat-open.sh` splits a conversation's opening
    /// with the two below: `qiao:chat-open` when the view starts, `qiao:chat-segments-open` when
    /// its newest segments are loaded (from IndexedDB, or their genesis) and about to render.
    #[wasm_bindgen(js_namespace = performance, js_name = mark)]
    fn mark(name: &str);
}

#[component]
pub fn ChannelView(channel: ChannelSummary, sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let me = expect_session().me.get_untracked().expect("logged in");

    mark("qiao:chat-open");
    let local_head: u32 = super::read_state::local_head(&channel.id);
    let head = channel.head_segment.max(local_head);
    let segments = Segments {
        repo,
        channel: StoredValue::new(channel.id.clone()),
        open: RwSignal::new(Vec::new()),
        loading: RwSignal::new(true),
    };
    leptos::task::spawn_local(async move {
        let id = segments.open_segment(head).await;
        // The segment before only when the newest holds too little to fill the screen: opening
        // it always would render up to 400 messages where 200 are plenty, and opening a long
        // channel would cost twice a new one's.
        let shown = repo.with_value(|r| r.read_untracked(id, chat::message_count)).unwrap_or(0);
        if head > 0 && shown < SCREENFUL {
            segments.open_segment(head - 1).await;
        }
        mark("qiao:chat-segments-open");
        segments.loading.set(false);
    });

    // A segment filled up by someone else: follow the writers into the next one.
    {
        Effect::new(move |_| {
            let Some((n, id)) = segments.open.get().last().copied() else { return };
            if repo.with_value(|r| r.read(id, chat::message_count)).unwrap_or(0) >= SEGMENT_CAPACITY {
                leptos::task::spawn_local(async move {
                    segments.open_segment(n + 1).await;
                });
            }
        });
    }

    // Each message with the segment document it lives in (edits and reactions go there). Each
    // segment's messages are read once per version of its document: a change to the newest
    // segment, or a segment opening, does not read the others again.
    let parsed: StoredValue<HashMap<DocumentId, (u64, Arc<Vec<ChatMessage>>)>> = StoredValue::new(HashMap::new());
    let messages: Memo<Vec<(DocumentId, ChatMessage)>> = Memo::new(move |_| {
        let open = segments.open.get();
        let mut out = Vec::new();
        for (_, id) in &open {
            let Some(version) = repo.with_value(|r| r.version(*id)) else { continue };
            let cached = parsed.with_value(|p| p.get(id).filter(|(v, _)| *v == version).map(|(_, m)| m.clone()));
            let msgs = match cached {
                Some(m) => m,
                None => {
                    let m = Arc::new(repo.with_value(|r| r.read_untracked(*id, chat::messages)).unwrap_or_default());
                    parsed.update_value(|p| {
                        p.insert(*id, (version, m.clone()));
                    });
                    m
                }
            };
            out.extend(msgs.iter().map(|m| (*id, m.clone())));
        }
        out
    });
    // Read state: where the reader had got to when the conversation opened (the "new messages"
    // line stays there while it is open), and everything on screen is read while the page is
    // visible.
    let reads = super::read_state::expect_read_state();
    let read_before: RwSignal<Option<i64>> = RwSignal::new(None);
    {
        let channel_id = channel.id.clone();
        Effect::new(move |_| {
            if read_before.get_untracked().is_none()
                && let Some(p) = reads.position(&channel_id)
            {
                read_before.set(Some(p));
            }
        });
    }
    // Read receipts (已读) in direct messages and small groups: each reader's position, written
    // into the newest segment, where the others see it.
    let small = channel.kind != qiao_model::api::ConversationKind::Channel && channel.members <= RECEIPTS_UP_TO;
    let me_id = me.id;
    {
        let channel_id = channel.id.clone();
        Effect::new(move |_| {
            let latest = messages.with(|m| m.iter().map(|(_, m)| m.ts).max());
            if reads.visible.get()
                && read_before.get().is_some()
                && let Some(ts) = latest
            {
                reads.mark_read(&channel_id, ts);
                if small && let Some((_, head)) = segments.open.get_untracked().last().copied() {
                    let behind = repo.with_value(|r| {
                        r.read_untracked(head, |d| chat::receipts(d).get(&me_id).copied().unwrap_or(0) < ts)
                    });
                    if behind == Some(true) {
                        repo.with_value(|r| r.change(head, |d| Ok::<_, ()>(chat::set_receipt(d, me_id, ts))));
                    }
                }
            }
        });
    }
    // How far each person has read, over the open segments (the furthest counts).
    let receipts = Memo::new(move |_| {
        let mut out = std::collections::BTreeMap::new();
        if small {
            let open = segments.open.get();
            repo.with_value(|r| {
                for (_, id) in open {
                    for (u, t) in r.read(id, chat::receipts).unwrap_or_default() {
                        let e = out.entry(u).or_insert(0);
                        *e = t.max(*e);
                    }
                }
            });
        }
        out
    });
    provide_context(Receipts { furthest: receipts, small, dm: channel.kind == qiao_model::api::ConversationKind::Dm });
    let actions = ChatActions {
        repo,
        moderator: me.role != qiao_model::acl::Role::Employee,
        reply_to: RwSignal::new(None),
        editing: RwSignal::new(None),
        thread: RwSignal::new(None),
        forwarding: RwSignal::new(None),
        name: StoredValue::new(super::sidebar::display_name(&channel)),
    };
    provide_context(actions);
    let pinned = Memo::new(move |_| {
        messages.with(|m| {
            m.iter().filter(|(_, m)| m.pinned_by.is_some() && !m.deleted).map(|(_, m)| m.clone()).collect::<Vec<_>>()
        })
    });
    let show_pins = RwSignal::new(false);

    // Who else is typing here (ephemeral signals on this channel's segments; 6 s without a
    // signal means they stopped).
    let typing: RwSignal<Vec<(qiao_model::ids::UserId, String, f64)>> = RwSignal::new(Vec::new());
    let ephemeral = repo.with_value(|r| r.ephemeral);
    let my_id = me.id;
    Effect::new(move |_| {
        let Some((doc, data)) = ephemeral.get() else { return };
        if !segments.open.with_untracked(|o| o.iter().any(|(_, id)| *id == doc)) {
            return;
        }
        match qiao_model::presence::Signal::decode(&data) {
            Some(qiao_model::presence::Signal::Typing { user, name }) if user != my_id => typing.update(|t| {
                t.retain(|(u, _, _)| *u != user);
                t.push((user, name, js_sys::Date::now() + 6000.0));
            }),
            Some(qiao_model::presence::Signal::StoppedTyping { user }) => {
                typing.update(|t| t.retain(|(u, _, _)| *u != user))
            }
            _ => {}
        }
    });
    {
        use wasm_bindgen::JsCast;
        let tick = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            let now = js_sys::Date::now();
            if typing.with_untracked(|t| t.iter().any(|(_, _, exp)| *exp < now)) {
                typing.update(|t| t.retain(|(_, _, exp)| *exp >= now));
            }
        });
        let handle = web_sys::window().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1000).ok()
        });
        tick.forget();
        on_cleanup(move || {
            if let (Some(w), Some(h)) = (web_sys::window(), handle) {
                w.clear_interval_with_handle(h);
            }
        });
    }
    let typing_text = Memo::new(move |_| {
        let names: Vec<String> = typing.with(|t| t.iter().map(|(_, n, _)| n.clone()).collect());
        (!names.is_empty()).then(|| i18n.tf("chat.typing", &[("names", names.join("、"))]))
    });
    let pending = Memo::new(move |_| {
        let open = segments.open.get();
        let signals: Vec<_> = repo.with_value(|r| open.iter().filter_map(|(_, id)| r.pending(*id)).collect());
        signals.iter().map(|p| p.get()).sum::<usize>()
    });
    let can_load_earlier = Memo::new(move |_| segments.open.with(|v| v.first().is_some_and(|(n, _)| *n > 0)));
    let load_earlier = Callback::new(move |_: ()| {
        if let Some((n, _)) = segments.open.get_untracked().first().copied()
            && n > 0
        {
            leptos::task::spawn_local(async move {
                segments.open_segment(n - 1).await;
            });
        }
    });

    let name = super::sidebar::display_name(&channel);
    let private = channel.private;
    let archived = channel.archived;
    let members_open = RwSignal::new(false);
    let summary = StoredValue::new(channel.clone());
    let thread_me = StoredValue::new(me.clone());
    let muted = {
        let id = channel.id.clone();
        Memo::new(move |_| reads.muted(&id))
    };
    view! {
        <header class="chat-header">
            <button
                class="sidebar-toggle icon-btn"
                aria-label=move || i18n.t("sidebar.open_menu")
                data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title" data-testid="chat-title">
                {if private { "🔒 " } else { "# " }}
                {name.clone()}
            </h2>
            <span class="chat-subtitle">
                {move || i18n.t(if private { "chat.members_private" } else { "chat.members_public" })}
            </span>
            <button
                class="btn btn-ghost btn-sm members-toggle"
                data-testid="members-toggle"
                on:click=move |_| members_open.update(|o| *o = !*o)
            >
                {move || i18n.tf("members.count", &[("n", summary.with_value(|c| c.members).to_string())])}
            </button>
            <Show when=move || pinned.with(|p| !p.is_empty())>
                <button
                    class="btn btn-ghost btn-sm pins-toggle"
                    data-testid="pins-toggle"
                    on:click=move |_| show_pins.update(|s| *s = !*s)
                >
                    {move || i18n.tf("chat.pinned_count", &[("n", pinned.with(|p| p.len()).to_string())])}
                </button>
            </Show>
            <button
                class="btn btn-ghost btn-sm mute-toggle"
                data-testid="mute-toggle"
                aria-pressed=move || if muted.get() { "true" } else { "false" }
                title=move || i18n.t(if muted.get() { "chat.unmute_hint" } else { "chat.mute_hint" })
                on:click=move |_| reads.set_muted(&summary.with_value(|c| c.id.clone()), !muted.get_untracked())
            >
                {move || if muted.get() { "🔕" } else { "🔔" }}
                <span class="mute-label">{move || i18n.t(if muted.get() { "chat.unmute" } else { "chat.mute" })}</span>
            </button>
            <Show when=move || { pending.get() > 0 }>
                <span class="pending-pill" data-testid="pending-count" data-count=move || pending.get().to_string()>
                    {move || i18n.tf("chat.pending", &[("n", pending.get().to_string())])}
                </span>
            </Show>
        </header>
        <Show when=move || show_pins.get() && pinned.with(|p| !p.is_empty())>
            <div class="pinned-panel" data-testid="pinned-panel">
                <For
                    each=move || pinned.get()
                    key=|m| m.id.clone()
                    children=move |m| {
                        view! {
                            <div class="pinned-item">
                                <span class="message-author">{m.author_name.clone()}</span>
                                <span class="muted">{qiao_model::markdown::excerpt(&m.text, 80)}</span>
                            </div>
                        }
                    }
                />
            </div>
        </Show>
        <MessageList
            messages=messages
            me=me.id
            read_before=read_before
            loading=segments.loading
            can_load_earlier=can_load_earlier
            on_load_earlier=load_earlier
        />
        <Show when=move || actions.forwarding.with(|f| f.is_some())>
            <super::forward_dialog::ForwardDialog what=actions.forwarding repo=repo me=thread_me.get_value() />
        </Show>
        <Show when=move || actions.thread.with(|t| t.is_some())>
            <super::thread_panel::ThreadPanel messages=messages segments=segments me=thread_me.get_value() />
        </Show>
        <Show when=move || members_open.get()>
            <MembersPanel channel=summary.get_value() open=members_open />
        </Show>
        {if archived {
            view! {
                <div class="banner banner-info" data-testid="archived-banner">{move || i18n.t("chat.archived")}</div>
            }
                .into_any()
        } else {
            view! { <Composer segments=segments channel_name=name.clone() me=me.clone() /> }.into_any()
        }}
        <div class="typing-indicator" data-testid="typing" aria-live="polite">
            {move || typing_text.get().unwrap_or_default()}
        </div>
    }
}
