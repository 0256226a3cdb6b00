//! One open channel: which segment documents are open, the message list and the composer.
//!
//! The view opens only the newest segment and the one before it, so a channel with years of
//! history opens as fast as a new one; "load earlier" opens older segments one at a time. When
//! the newest segment is full, writers move to the next one (see `qiao_model::schema::chat`).

use super::composer::Composer;
use super::message_list::MessageList;
use crate::contexts::{RepoRef, expect_repo, expect_session};
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::ChannelSummary;
use qiao_model::ids::{ChannelId, DocumentId};
use qiao_model::schema::chat::{self, ChatMessage, SEGMENT_CAPACITY};

fn local_head_key(c: &ChannelId) -> String {
    format!("qiao.seg.{c}")
}

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
        storage::set(&local_head_key(&self.channel.get_value()), &(n + 1).to_string());
        Some(next)
    }
}

#[component]
pub fn ChannelView(channel: ChannelSummary, sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let me = expect_session().me.get_untracked().expect("logged in");

    let local_head: u32 = storage::get(&local_head_key(&channel.id)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let head = channel.head_segment.max(local_head);
    let segments = Segments {
        repo,
        channel: StoredValue::new(channel.id.clone()),
        open: RwSignal::new(Vec::new()),
        loading: RwSignal::new(true),
    };
    leptos::task::spawn_local(async move {
        if head > 0 {
            segments.open_segment(head - 1).await;
        }
        segments.open_segment(head).await;
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

    let messages: Memo<Vec<ChatMessage>> = Memo::new(move |_| {
        let open = segments.open.get();
        repo.with_value(|r| open.iter().flat_map(|(_, id)| r.read(*id, chat::messages).unwrap_or_default()).collect())
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

    let name = channel.name.clone();
    let private = channel.private;
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
            <Show when=move || { pending.get() > 0 }>
                <span class="pending-pill" data-testid="pending-count" data-count=move || pending.get().to_string()>
                    {move || i18n.tf("chat.pending", &[("n", pending.get().to_string())])}
                </span>
            </Show>
        </header>
        <MessageList
            messages=messages
            me=me.id
            loading=segments.loading
            can_load_earlier=can_load_earlier
            on_load_earlier=load_earlier
        />
        <Composer segments=segments channel_name=name me=me />
    }
}
