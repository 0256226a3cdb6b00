//! A thread (话题): a message and every reply to it, in a panel beside the conversation, with its
//! own composer. Replies are ordinary messages of the conversation that name the message they
//! answer (`reply_to`), so they are also shown in the conversation with a quote, as Lark does, and
//! merge offline like any other message.

use super::channel_view::{ChatActions, Segments};
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::Me;
use qiao_model::ids::DocumentId;
use qiao_model::markdown;
use qiao_model::schema::chat::{self, ChatMessage};

/// How many replies each message has, by message id.
pub fn reply_counts(messages: &[(DocumentId, ChatMessage)]) -> std::collections::HashMap<String, usize> {
    let mut out = std::collections::HashMap::new();
    for (_, m) in messages {
        if let Some(r) = &m.reply_to
            && !m.deleted
        {
            *out.entry(r.clone()).or_insert(0) += 1;
        }
    }
    out
}

#[component]
pub fn ThreadPanel(messages: Memo<Vec<(DocumentId, ChatMessage)>>, segments: Segments, me: Me) -> impl IntoView {
    let i18n = expect_i18n();
    let actions = expect_context::<ChatActions>();
    let root_id = move || actions.thread.get().unwrap_or_default();
    let root = Memo::new(move |_| {
        let id = root_id();
        messages.with(|m| m.iter().find(|(_, m)| m.id == id).map(|(_, m)| m.clone()))
    });
    let replies = Memo::new(move |_| {
        let id = root_id();
        messages.with(|m| {
            m.iter()
                .filter(|(_, m)| m.reply_to.as_deref() == Some(id.as_str()))
                .map(|(_, m)| m.clone())
                .collect::<Vec<_>>()
        })
    });
    let text = RwSignal::new(String::new());
    let me = StoredValue::new(me);
    let send = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        let root = root_id();
        leptos::task::spawn_local(async move {
            let Some(doc) = segments.writable().await else { return };
            let me = me.get_value();
            let mut msg =
                ChatMessage::new(storage::random_hex::<8>(), me.id, me.display_name.clone(), storage::now_ms(), body);
            msg.reply_to = Some(root);
            if let Some(Ok(())) = actions.repo.with_value(|r| r.change(doc, |d| chat::append(d, &msg))) {
                text.set(String::new());
            }
        });
    };
    let row = |m: ChatMessage| {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(m.ts as f64));
        let time = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
        let html = if m.deleted { String::new() } else { markdown::render(&m.text) };
        view! {
            <div class="thread-message" data-testid="thread-message">
                <div class="message-meta">
                    <span class="message-author">{m.author_name.clone()}</span>
                    <time class="message-time">{time}</time>
                </div>
                <div class="message-text markdown" inner_html=html></div>
                {(!m.files.is_empty()).then(|| view! { <div class="attachments"><super::attachments::Attachments files=m.files.clone() /></div> })}
            </div>
        }
    };
    view! {
        <aside class="thread-panel" data-testid="thread-panel" aria-label=move || i18n.t("thread.title")>
            <header class="thread-header">
                <h3>{move || i18n.t("thread.title")}</h3>
                <button class="icon-btn" aria-label=move || i18n.t("channel.cancel") data-testid="thread-close" on:click=move |_| actions.thread.set(None)>
                    <span class="icon icon-close" aria-hidden="true"></span>
                </button>
            </header>
            <div class="thread-body">
                {move || root.get().map(row)}
                <div class="thread-count muted">
                    {move || i18n.tf("thread.replies", &[("n", replies.with(|r| r.len()).to_string())])}
                </div>
                <For each=move || replies.get() key=|m| (m.id.clone(), m.text.clone(), m.deleted) children=row />
            </div>
            <footer class="thread-composer">
                <textarea
                    class="composer-input"
                    rows="2"
                    data-testid="thread-input"
                    placeholder=move || i18n.t("thread.placeholder")
                    aria-label=move || i18n.t("thread.placeholder")
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
                            ev.prevent_default();
                            send();
                        } else if ev.key() == "Escape" {
                            actions.thread.set(None);
                        }
                    }
                ></textarea>
                <button class="btn btn-primary btn-sm" data-testid="thread-send" disabled=move || text.with(|t| t.trim().is_empty()) on:click=move |_| send()>
                    {move || i18n.t("chat.send")}
                </button>
            </footer>
        </aside>
    }
}
