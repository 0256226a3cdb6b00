//! Notifications for what needs the user: a direct message, or a message that mentions them, in
//! a conversation they have not muted. While the window has focus they appear as a toast in the
//! app (unless that conversation is already open); otherwise as a system notification, when the
//! browser allows it (the sidebar asks once). Clicking either opens the conversation.
//!
//! Only messages written while the app runs notify (newer than what this tab had already seen and
//! than its start), so a new device syncing years of history stays quiet; what came while the app
//! was closed shows as unread instead.

use super::read_state::ReadState;
use super::shell::Channels;
use crate::contexts::RepoRef;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::api::ConversationKind;
use qiao_model::ids::{ChannelId, UserId};
use qiao_model::markdown::excerpt;
use qiao_model::schema::chat;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[derive(Clone, PartialEq)]
pub struct Toast {
    pub key: String,
    pub channel: ChannelId,
    pub title: String,
    pub body: String,
}

/// At most this many notifications for one burst of arrivals (a reconnect after a day offline).
const BURST: usize = 3;

fn window_focused() -> bool {
    web_sys::window().and_then(|w| w.document()).map(|d| d.has_focus().unwrap_or(true)).unwrap_or(true)
}

/// Whether the browser would show a system notification now.
pub fn system_permission() -> Option<web_sys::NotificationPermission> {
    // `Notification` is missing in some browsers (and in some embedded views): check first.
    let w = web_sys::window()?;
    js_sys::Reflect::get(&w, &JsValue::from_str("Notification")).ok().filter(|v| !v.is_undefined())?;
    Some(web_sys::Notification::permission())
}

fn show_system(t: &Toast, channels: Channels) {
    if system_permission() != Some(web_sys::NotificationPermission::Granted) {
        return;
    }
    let opts = web_sys::NotificationOptions::new();
    opts.set_body(&t.body);
    opts.set_tag(t.channel.as_str());
    opts.set_icon("/icons/icon-192.png");
    if let Ok(n) = web_sys::Notification::new_with_options(&t.title, &opts) {
        let channel = t.channel.clone();
        let click = Closure::<dyn FnMut()>::new(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
            channels.select(channel.clone());
        });
        n.set_onclick(Some(click.as_ref().unchecked_ref()));
        click.forget();
    }
}

/// Follow every conversation's newest segment and raise notifications; returns the toasts shown.
pub fn watch(channels: Channels, reads: ReadState, repo: RepoRef, me: UserId) -> RwSignal<Vec<Toast>> {
    let i18n = expect_i18n();
    let toasts: RwSignal<Vec<Toast>> = RwSignal::new(Vec::new());
    let started = js_sys::Date::now() as i64;
    let seen: StoredValue<HashMap<ChannelId, i64>> = StoredValue::new(HashMap::new());
    Effect::new(move |_| {
        let list = channels.list.get();
        let mut fresh: Vec<Toast> = Vec::new();
        for c in &list {
            let head = c.head_segment.max(super::read_state::local_head(&c.id));
            let Some(msgs) = repo.with_value(|r| r.read(chat::segment_id(&c.id, head), chat::messages)) else {
                continue;
            };
            let since = seen.with_value(|s| s.get(&c.id).copied()).unwrap_or(started);
            let read = reads.position(&c.id).unwrap_or(0);
            let latest = msgs.iter().map(|m| m.ts).max().unwrap_or(0);
            seen.update_value(|s| {
                s.insert(c.id.clone(), since.max(latest));
            });
            if reads.muted(&c.id) {
                continue;
            }
            let open_here = channels.selected.get_untracked().as_ref() == Some(&c.id) && window_focused();
            for m in msgs.iter().filter(|m| m.ts > since && m.ts > read && m.author != me && !m.deleted) {
                let dm = c.kind == ConversationKind::Dm;
                if open_here || !(dm || m.mentions_user(me)) {
                    continue;
                }
                let title = if dm {
                    m.author_name.clone()
                } else {
                    i18n.tf("notify.mentioned_in", &[("name", m.author_name.clone()), ("channel", c.name.clone())])
                };
                fresh.push(Toast { key: m.id.clone(), channel: c.id.clone(), title, body: excerpt(&m.text, 140) });
            }
        }
        let n = fresh.len();
        for t in fresh.into_iter().skip(n.saturating_sub(BURST)) {
            if window_focused() {
                let key = t.key.clone();
                toasts.update(|v| v.push(t));
                // A toast goes by itself after a while, as they do everywhere.
                leptos::task::spawn_local(async move {
                    crate::storage::sleep_ms(8000).await;
                    toasts.update(|v| v.retain(|x| x.key != key));
                });
            } else {
                show_system(&t, channels);
            }
        }
    });
    toasts
}

/// The toasts, top centre; a click opens the conversation.
#[component]
pub fn Toasts(toasts: RwSignal<Vec<Toast>>) -> impl IntoView {
    let channels = expect_context::<Channels>();
    view! {
        <div class="toast-stack" aria-live="polite">
            <For
                each=move || toasts.get()
                key=|t| t.key.clone()
                children=move |t| {
                    let key = t.key.clone();
                    let channel = t.channel.clone();
                    view! {
                        <button
                            class="toast toast-message"
                            data-testid="toast"
                            on:click=move |_| {
                                channels.select(channel.clone());
                                toasts.update(|v| v.retain(|x| x.key != key));
                            }
                        >
                            <span class="toast-text">
                                <strong>{t.title.clone()}</strong>
                                <span class="toast-body">{t.body.clone()}</span>
                            </span>
                        </button>
                    }
                }
            />
        </div>
    }
}

/// Asks once for system notifications, from a click (browsers allow the prompt only then).
#[component]
pub fn NotifyPrompt() -> impl IntoView {
    let i18n = expect_i18n();
    let ask = RwSignal::new(
        system_permission() == Some(web_sys::NotificationPermission::Default)
            && crate::storage::get("qiao.notify.dismissed").is_none(),
    );
    let enable = move |_| {
        if let Ok(p) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
                ask.set(system_permission() == Some(web_sys::NotificationPermission::Default));
                // Allowed: this device can be told of messages while the app is closed, too.
                let _ = crate::push::subscribe().await;
            });
        }
    };
    let dismiss = move |_| {
        crate::storage::set("qiao.notify.dismissed", "1");
        ask.set(false);
    };
    view! {
        <Show when=move || ask.get()>
            <div class="notify-prompt" data-testid="notify-prompt">
                <span>{move || i18n.t("notify.prompt")}</span>
                <div class="notify-prompt-actions">
                    <button class="btn btn-primary btn-sm" data-testid="notify-enable" on:click=enable>
                        {move || i18n.t("notify.enable")}
                    </button>
                    <button class="btn btn-ghost btn-sm" on:click=dismiss>{move || i18n.t("notify.later")}</button>
                </div>
            </div>
        </Show>
    }
}
