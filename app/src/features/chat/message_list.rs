//! The message list: day dividers, grouped consecutive messages, newest at the bottom; each
//! message with its reactions and, on hover or focus, its actions (react, reply, edit, delete,
//! pin). Message text is markdown rendered by `qiao_model::markdown`, which never emits markup it
//! did not make itself, so a message cannot run script.

use super::channel_view::ChatActions;
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::html::Div;
use leptos::prelude::*;
use qiao_model::ids::{DocumentId, UserId};
use qiao_model::markdown;
use qiao_model::schema::chat::{self, ChatMessage, QUICK_REACTIONS};

#[derive(Clone, PartialEq)]
struct Row {
    doc: DocumentId,
    msg: ChatMessage,
    /// Same author as the previous message within 5 minutes: no avatar, no header.
    continued: bool,
    /// A date line above this message.
    day: Option<String>,
    /// The "new messages" line above this message: the first one by someone else after where
    /// the reader had got to.
    first_new: bool,
    /// The message this one replies to: (author, excerpt).
    quote: Option<(String, String)>,
    /// How many replies it has (its thread).
    replies: usize,
    /// For one's own messages in a small conversation: how many others have read it.
    read_by: Option<usize>,
}

fn date_parts(ts: i64) -> (String, String) {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts as f64));
    let day = format!("{:04}-{:02}-{:02}", d.get_full_year(), d.get_month() + 1, d.get_date());
    let time = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
    (day, time)
}

fn rows(
    messages: &[(DocumentId, ChatMessage)],
    me: UserId,
    read_before: Option<i64>,
    receipts: Option<&std::collections::BTreeMap<UserId, i64>>,
) -> Vec<Row> {
    let by_id: std::collections::HashMap<&str, &ChatMessage> =
        messages.iter().map(|(_, m)| (m.id.as_str(), m)).collect();
    let counts = super::thread_panel::reply_counts(messages);
    let mut out = Vec::with_capacity(messages.len());
    let mut prev: Option<&ChatMessage> = None;
    let mut prev_day = String::new();
    let mut new_line_drawn = read_before.is_none();
    for (doc, m) in messages {
        let first_new = !new_line_drawn && m.author != me && !m.deleted && Some(m.ts) > read_before;
        new_line_drawn |= first_new;
        let (day, _) = date_parts(m.ts);
        let new_day = day != prev_day;
        let continued = m.reply_to.is_none()
            && !new_day
            && prev.is_some_and(|p| p.author == m.author && (m.ts - p.ts).abs() < 5 * 60 * 1000);
        let quote = m.reply_to.as_deref().map(|r| match by_id.get(r) {
            Some(q) if !q.deleted => (q.author_name.clone(), markdown::excerpt(&q.text, 60)),
            _ => (String::new(), String::from("…")),
        });
        let continued = continued && !first_new;
        let replies = counts.get(&m.id).copied().unwrap_or(0);
        let read_by = receipts
            .filter(|_| m.author == me && !m.deleted)
            .map(|r| r.iter().filter(|(u, t)| **u != me && **t >= m.ts).count());
        out.push(Row {
            read_by,
            doc: *doc,
            msg: m.clone(),
            continued,
            day: new_day.then(|| day.clone()),
            first_new,
            quote,
            replies,
        });
        prev_day = day;
        prev = Some(m);
    }
    out
}

#[component]
pub fn MessageList(
    messages: Memo<Vec<(DocumentId, ChatMessage)>>,
    me: UserId,
    /// Where the reader had read to when the conversation opened (`None`: not known yet).
    read_before: RwSignal<Option<i64>>,
    loading: RwSignal<bool>,
    can_load_earlier: Memo<bool>,
    on_load_earlier: Callback<()>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let list_ref: NodeRef<Div> = NodeRef::new();
    let receipts = use_context::<super::channel_view::Receipts>();
    let rows = Memo::new(move |_| {
        let since = read_before.get();
        let furthest = receipts.filter(|r| r.small).map(|r| r.furthest.get());
        messages.with(|m| rows(m, me, since, furthest.as_ref()))
    });
    let today = date_parts(js_sys::Date::now() as i64).0;

    // Keep the newest message in view when it arrives, unless the reader scrolled up to read.
    let stick = RwSignal::new(true);
    Effect::new(move |_| {
        rows.track();
        if let Some(el) = list_ref.get()
            && stick.get_untracked()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    // A search result asked for a message: scroll it into view once it is rendered.
    if let Some(focus) = use_context::<super::search_panel::FocusMessage>() {
        Effect::new(move |_| {
            rows.track();
            let Some(id) = focus.0.get() else { return };
            let Some(el) = list_ref.get() else { return };
            if let Ok(Some(target)) = el.query_selector(&format!("[data-message-id=\"{id}\"]")) {
                let opts = web_sys::ScrollIntoViewOptions::new();
                opts.set_block(web_sys::ScrollLogicalPosition::Center);
                target.scroll_into_view_with_scroll_into_view_options(&opts);
                let _ = target.class_list().add_1("message-focus");
                stick.set(false);
                focus.0.set(None);
            }
        });
    }
    let on_scroll = move |_| {
        if let Some(el) = list_ref.get_untracked() {
            stick.set(el.scroll_height() - el.scroll_top() - el.client_height() < 80);
        }
    };

    view! {
        <div class="message-list" node_ref=list_ref on:scroll=on_scroll data-testid="message-list">
            <Show when=move || can_load_earlier.get()>
                <div class="load-earlier">
                    <button class="btn btn-ghost btn-sm" on:click=move |_| on_load_earlier.run(())>
                        {move || i18n.t("chat.load_earlier")}
                    </button>
                </div>
            </Show>
            <Show when=move || !loading.get() && rows.with(|r| r.is_empty())>
                <div class="empty-state" data-testid="empty-channel">
                    <h3>{move || i18n.t("chat.empty_title")}</h3>
                    <p>{move || i18n.t("chat.empty_body")}</p>
                </div>
            </Show>
            <For
                each=move || rows.get()
                // Any visible difference re-renders the row (rows are cheap; lists are bounded).
                key=|r| {
                    (
                        r.msg.id.clone(),
                        r.continued,
                        r.day.clone(),
                        r.first_new,
                        r.replies,
                        r.read_by,
                        r.msg.text.clone(),
                        r.msg.deleted,
                        r.msg.edited_at,
                        format!("{:?}{:?}{:?}{:?}", r.msg.reactions, r.msg.pinned_by, r.quote, r.msg.poll),
                    )
                }
                children=move |r| {
                    let label = r.day.clone().map(|d| if d == today { i18n.t("chat.today") } else { d });
                    let first_new = r.first_new;
                    view! {
                        {label.map(|l| view! { <div class="day-divider"><span>{l}</span></div> })}
                        {first_new.then(|| view! {
                            <div class="day-divider new-divider" data-testid="new-divider">
                                <span>{move || i18n.t("chat.new_messages")}</span>
                            </div>
                        })}
                        <MessageRow row=r me=me />
                    }
                }
            />
        </div>
    }
}

#[component]
fn MessageRow(row: Row, me: UserId) -> impl IntoView {
    let i18n = expect_i18n();
    let actions = expect_context::<ChatActions>();
    let Row { doc, msg, continued, quote, replies, read_by, .. } = row;
    let dm = use_context::<super::channel_view::Receipts>().is_some_and(|r| r.dm);
    let (_, time) = date_parts(msg.ts);
    let mine = msg.author == me;
    let initial: String = msg.author_name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    let id = StoredValue::new(msg.id.clone());
    let editing = Memo::new(move |_| actions.editing.get().as_deref() == Some(id.get_value().as_str()));
    let history_title = msg
        .history
        .iter()
        .map(|(ts, t)| format!("{} {}", date_parts(*ts).1, markdown::excerpt(t, 80)))
        .collect::<Vec<_>>()
        .join("\n");
    // Mentions are highlighted by the names they were written with.
    let people = super::people::expect_people();
    let mut tokens: Vec<String> =
        msg.mentions.iter().filter_map(|u| people.name_of(*u)).map(|n| format!("@{n}")).collect();
    if msg.mention_all {
        tokens.extend(chat::MENTION_ALL_TOKENS.iter().map(|t| t.to_string()));
    }
    let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let html = markdown::render_with_mentions(&msg.text, &token_refs);
    let mentions_me = msg.author != me && msg.mentions_user(me);
    let files = msg.files.clone();
    let poll = msg.poll.clone();
    let author = msg.author;
    let fwd_msg = StoredValue::new(msg.clone());
    let forwarded_from = msg.forwarded_from.clone();
    let text_empty = msg.text.trim().is_empty();
    let text = StoredValue::new(msg.text.clone());
    let deleted = msg.deleted;
    let pinned = msg.pinned_by.is_some();
    let can_delete = mine || actions.moderator;
    let author_name = msg.author_name.clone();

    let react = move |emoji: String, on: bool| {
        actions.apply(doc, |d| chat::react(d, &id.get_value(), &emoji, me, on, storage::now_ms()));
    };
    let reactions = msg.reactions.clone();
    let reaction_chips = reactions
        .into_iter()
        .map(|(emoji, users)| {
            let count = users.len();
            let reacted = users.contains(&me);
            let e = emoji.clone();
            view! {
                <button
                    class="reaction"
                    class:reaction-mine=reacted
                    data-testid="reaction"
                    data-emoji=emoji.clone()
                    aria-pressed=if reacted { "true" } else { "false" }
                    on:click=move |_| react(e.clone(), !reacted)
                >
                    <span class="reaction-emoji">{emoji.clone()}</span>
                    <span class="reaction-count">{count}</span>
                </button>
            }
        })
        .collect::<Vec<_>>();

    view! {
        <div
            class="message"
            class:message-continued=continued
            class:message-mine=mine
            class:message-deleted=deleted
            class:message-pinned=pinned
            class:message-mentioned=mentions_me
            tabindex="0"
            data-testid="message"
            data-message-id=msg.id.clone()
            data-author=msg.author_name.clone()
        >
            <span class="avatar" aria-hidden="true">{initial}</span>
            <div class="message-body">
                <div class="message-meta">
                    <span class="message-author">{msg.author_name.clone()}</span>
                    <time class="message-time">{time}</time>
                    {pinned.then(|| view! { <span class="message-flag" title=move || i18n.t("chat.pinned")>"📌"</span> })}
                    {read_by.map(|n| {
                        let (text, read) = match (dm, n) {
                            (_, 0) => (i18n.t("receipt.unread"), false),
                            (true, _) => (i18n.t("receipt.read"), true),
                            (false, n) => (i18n.tf("receipt.read_by", &[("n", n.to_string())]), true),
                        };
                        view! {
                            <span class="message-receipt" class:read=read data-testid="receipt" data-read=n.to_string()>{text}</span>
                        }
                    })}
                    {msg
                        .edited_at
                        .filter(|_| !deleted)
                        .map(|_| {
                            view! {
                                <span class="message-edited muted" title=history_title.clone() data-testid="edited">
                                    {move || i18n.t("chat.edited")}
                                </span>
                            }
                        })}
                </div>
                {forwarded_from
                    .filter(|_| !deleted)
                    .map(|from| {
                        view! {
                            <div class="message-forwarded muted" data-testid="forwarded-from">
                                {i18n.tf("forward.from", &[("from", from)])}
                            </div>
                        }
                    })}
                {quote
                    .filter(|_| !deleted)
                    .map(|(who, what)| {
                        view! {
                            <div class="message-quote" data-testid="reply-quote">
                                <span class="message-author">{who}</span>
                                " "
                                <span class="muted">{what}</span>
                            </div>
                        }
                    })}
                {move || {
                    if deleted {
                        view! { <div class="message-text muted" data-testid="message-deleted">{i18n.t("chat.deleted")}</div> }
                            .into_any()
                    } else if editing.get() {
                        view! { <EditBox doc=doc id=id.get_value() text=text.get_value() /> }.into_any()
                    } else {
                        if text_empty {
                            ().into_any()
                        } else {
                            view! { <div class="message-text markdown" data-testid="message-text" inner_html=html.clone()></div> }
                                .into_any()
                        }
                    }
                }}
                {poll
                    .filter(|_| !deleted)
                    .map(|poll| view! { <super::poll::PollCard doc=doc id=id.get_value() poll=poll author=author me=me /> })}
                {(!deleted && !files.is_empty())
                    .then(|| view! { <div class="attachments"><super::attachments::Attachments files=files.clone() /></div> })}
                {(replies > 0 && !deleted)
                    .then(|| {
                        view! {
                            <button class="thread-link" data-testid="thread-link" on:click=move |_| actions.thread.set(Some(id.get_value()))>
                                {i18n.tf("thread.replies", &[("n", replies.to_string())])}
                            </button>
                        }
                    })}
                {(!deleted)
                    .then(|| {
                        view! {
                            <div class="reactions" data-testid="reactions">
                                {reaction_chips}
                            </div>
                        }
                    })}
            </div>
            {(!deleted)
                .then(|| {
                    let author_name = author_name.clone();
                    view! {
                        <div class="message-actions" role="toolbar" data-testid="message-actions">
                            {QUICK_REACTIONS
                                .iter()
                                .take(3)
                                .map(|e| {
                                    let e = e.to_string();
                                    let e2 = e.clone();
                                    view! {
                                        <button
                                            class="icon-btn"
                                            title=e.clone()
                                            data-testid="react"
                                            data-emoji=e.clone()
                                            on:click=move |_| react(e2.clone(), true)
                                        >
                                            {e.clone()}
                                        </button>
                                    }
                                })
                                .collect::<Vec<_>>()}
                            <button
                                class="icon-btn"
                                title=move || i18n.t("chat.reply")
                                data-testid="reply"
                                on:click=move |_| {
                                    actions.reply_to.set(Some((id.get_value(), author_name.clone())));
                                }
                            >
                                "↩"
                            </button>
                            <button
                                class="icon-btn"
                                title=move || i18n.t("forward.action")
                                data-testid="forward"
                                on:click=move |_| {
                                    actions.forwarding.set(Some(super::forward_dialog::Forwarding {
                                        msg: fwd_msg.get_value(),
                                        from: actions.name.get_value(),
                                    }));
                                }
                            >
                                "↪"
                            </button>
                            <button
                                class="icon-btn"
                                title=move || i18n.t("tasks.from_message")
                                data-testid="make-task"
                                on:click=move |_| {
                                    let Some(projects) = use_context::<crate::features::tasks::Projects>() else { return };
                                    let channel = actions.repo.with_value(|r| r.read_untracked(doc, chat::channel_of)).flatten();
                                    if let Some(channel) = channel {
                                        let m = fwd_msg.get_value();
                                        projects.from_message.set(Some(crate::features::tasks::from_message::FromMessage {
                                            channel,
                                            message: m.id,
                                            text: m.text,
                                        }));
                                    }
                                }
                            >
                                "☑"
                            </button>
                            <button
                                class="icon-btn"
                                title=move || i18n.t("thread.open")
                                data-testid="open-thread"
                                on:click=move |_| actions.thread.set(Some(id.get_value()))
                            >
                                "💬"
                            </button>
                            {mine
                                .then(|| {
                                    view! {
                                        <button
                                            class="icon-btn"
                                            title=move || i18n.t("chat.edit")
                                            data-testid="edit"
                                            on:click=move |_| actions.editing.set(Some(id.get_value()))
                                        >
                                            "✎"
                                        </button>
                                    }
                                })}
                            <button
                                class="icon-btn"
                                title=move || i18n.t(if pinned { "chat.unpin" } else { "chat.pin" })
                                data-testid="pin"
                                on:click=move |_| {
                                    actions.apply(doc, |d| chat::pin(d, &id.get_value(), me, !pinned, storage::now_ms()));
                                }
                            >
                                "📌"
                            </button>
                            <button
                                class="icon-btn"
                                title=move || i18n.t("chat.copy_link")
                                data-testid="copy-link"
                                on:click=move |_| copy_link(&id.get_value())
                            >
                                "🔗"
                            </button>
                            {can_delete
                                .then(|| {
                                    view! {
                                        <button
                                            class="icon-btn icon-btn-danger"
                                            title=move || i18n.t("chat.delete")
                                            data-testid="delete"
                                            on:click=move |_| {
                                                let ok = web_sys::window()
                                                    .and_then(|w| w.confirm_with_message(&i18n.t("chat.delete_confirm")).ok())
                                                    .unwrap_or(false);
                                                if ok {
                                                    actions.apply(doc, |d| chat::delete(d, &id.get_value(), storage::now_ms()));
                                                }
                                            }
                                        >
                                            "🗑"
                                        </button>
                                    }
                                })}
                        </div>
                    }
                })}
        </div>
    }
}

/// Put a link to the message on the clipboard.
fn copy_link(id: &str) {
    let Some(w) = web_sys::window() else { return };
    let loc = w.location();
    let url = format!("{}{}#m-{id}", loc.origin().unwrap_or_default(), loc.pathname().unwrap_or_default());
    let _ = w.navigator().clipboard().write_text(&url);
}

/// Editing a message in place: Enter saves, Shift+Enter breaks the line, Escape cancels.
#[component]
fn EditBox(doc: DocumentId, id: String, text: String) -> impl IntoView {
    let i18n = expect_i18n();
    let actions = expect_context::<ChatActions>();
    let value = RwSignal::new(text);
    let id = StoredValue::new(id);
    let save = move || {
        let v = value.get_untracked();
        actions.apply(doc, |d| chat::edit(d, &id.get_value(), &v, storage::now_ms()));
        actions.editing.set(None);
    };
    view! {
        <div class="edit-box">
            <textarea
                class="textarea"
                data-testid="edit-input"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        save();
                    } else if ev.key() == "Escape" {
                        actions.editing.set(None);
                    }
                }
            ></textarea>
            <div class="edit-actions">
                <button class="btn btn-secondary btn-sm" on:click=move |_| actions.editing.set(None)>
                    {move || i18n.t("channel.cancel")}
                </button>
                <button class="btn btn-primary btn-sm" data-testid="edit-save" on:click=move |_| save()>
                    {move || i18n.t("chat.save")}
                </button>
            </div>
        </div>
    }
}
