//! Read state: how far the user has read each conversation, kept in their own synced document
//! (`qiao_model::schema::user_state`), so positions follow them across devices and merge after
//! offline reading (the furthest point any device reached wins).
//!
//! The sidebar counts unread messages from the conversation's newest segments (others' messages
//! after the read position); the open conversation marks itself read while the page is visible,
//! and remembers where the reader had been so it can draw a "new messages" line.

use crate::contexts::RepoRef;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::ChannelSummary;
use qiao_model::ids::{ChannelId, DocumentId, UserId};
use qiao_model::schema::{chat, user_state};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[derive(Clone, Copy)]
pub struct ReadState {
    repo: RepoRef,
    doc: DocumentId,
    me: UserId,
    /// Whether the page is on screen: reading happens only then.
    pub visible: RwSignal<bool>,
}

/// Which browser is reading: the stable part of this browser's device id.
fn device() -> String {
    storage::get("qiao.device").unwrap_or_else(|| "web".into())
}

fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
        .unwrap_or(true)
}

impl ReadState {
    /// Open the user's state document and follow the page's visibility.
    pub fn provide(repo: RepoRef, me: UserId) -> ReadState {
        let doc = user_state::doc_id(me);
        let state = ReadState { repo, doc, me, visible: RwSignal::new(page_visible()) };
        let r = repo.get_value();
        leptos::task::spawn_local(async move {
            r.open(doc, move || user_state::genesis(me)).await;
        });
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            let visible = state.visible;
            let on_change = Closure::<dyn FnMut()>::new(move || visible.set(page_visible()));
            let _ = d.add_event_listener_with_callback("visibilitychange", on_change.as_ref().unchecked_ref());
            on_change.forget();
        }
        provide_context(state);
        state
    }

    /// How far `channel` has been read (ms), tracked; `None` until the document is open.
    pub fn position(&self, channel: &ChannelId) -> Option<i64> {
        self.repo.with_value(|r| r.read(self.doc, |d| user_state::read_position(d, channel)))
    }

    /// Move the read position of `channel` forward to `ts` (never back).
    pub fn mark_read(&self, channel: &ChannelId, ts: i64) {
        let behind =
            self.repo.with_value(|r| r.read_untracked(self.doc, |d| user_state::read_position(d, channel) < ts));
        if behind == Some(true) {
            let device = device();
            self.repo
                .with_value(|r| r.change(self.doc, |d| Ok::<_, ()>(user_state::mark_read(d, channel, &device, ts))));
        }
    }

    /// Unread messages in `c` (tracked): others' messages after the read position in the two
    /// newest segments (the ones the app keeps open). 0 until the read state is loaded, so a
    /// cold start does not flash every conversation as unread.
    pub fn unread(&self, c: &ChannelSummary) -> usize {
        let Some(since) = self.position(&c.id) else { return 0 };
        let head = c.head_segment.max(local_head(&c.id));
        let first = head.saturating_sub(1);
        self.repo.with_value(|r| {
            (first..=head)
                .filter_map(|n| r.read(chat::segment_id(&c.id, n), |d| chat::unread_after(d, since, self.me)))
                .sum()
        })
    }
}

/// Where this browser keeps the newest segment it has written into (it may be ahead of the
/// relay's channel list until the list is refreshed).
pub fn local_head_key(c: &ChannelId) -> String {
    format!("qiao.seg.{c}")
}

pub fn local_head(c: &ChannelId) -> u32 {
    storage::get(&local_head_key(c)).and_then(|s| s.parse().ok()).unwrap_or(0)
}

pub fn expect_read_state() -> ReadState {
    expect_context::<ReadState>()
}

impl ReadState {
    /// Unread messages in `c` that mention the user (tracked), counted as [`ReadState::unread`].
    pub fn unread_mentions(&self, c: &ChannelSummary) -> usize {
        let Some(since) = self.position(&c.id) else { return 0 };
        let head = c.head_segment.max(local_head(&c.id));
        self.repo.with_value(|r| {
            (head.saturating_sub(1)..=head)
                .filter_map(|n| r.read(chat::segment_id(&c.id, n), |d| chat::unread_mentions_after(d, since, self.me)))
                .sum()
        })
    }
}

impl ReadState {
    /// Whether the user muted `channel` (tracked): no notifications, a grey count.
    pub fn muted(&self, channel: &ChannelId) -> bool {
        self.repo.with_value(|r| r.read(self.doc, |d| user_state::is_muted(d, channel))).unwrap_or(false)
    }

    pub fn set_muted(&self, channel: &ChannelId, muted: bool) {
        self.repo.with_value(|r| {
            r.change(self.doc, |d| {
                user_state::set_muted(d, channel, muted, storage::now_ms());
                Ok::<_, ()>(())
            })
        });
    }
}
