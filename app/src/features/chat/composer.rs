//! The composer: Enter sends, Shift+Enter breaks the line, and Enter while an input method is
//! composing (pinyin!) is left to the input method. 📎 attaches files, 📊 starts a poll. `@` opens the mention picker (people from the
//! directory, and `@所有人` for those allowed); ↑/↓ choose, Enter or Tab insert, Esc closes.

use super::channel_view::{ChatActions, Segments};
use super::people::expect_people;
use crate::contexts::expect_repo;
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::html::Textarea;
use leptos::prelude::*;
use qiao_model::api::{DirectoryUser, Me};
use qiao_model::ids::UserId;
use qiao_model::schema::chat::{self, ChatMessage, MENTION_ALL_TOKENS};

/// A mention being typed: where its `@` is (byte offset) and what follows it up to the caret.
#[derive(Clone, PartialEq)]
struct Typing {
    at: usize,
    end: usize,
    query: String,
}

/// The mention under the caret, if the text before it ends in `@query` (no spaces, not part of
/// an e-mail address).
fn mention_at(text: &str, caret_utf16: u32) -> Option<Typing> {
    let mut units = 0u32;
    let end = text
        .char_indices()
        .find_map(|(i, c)| {
            let here = units;
            units += c.len_utf16() as u32;
            (here >= caret_utf16).then_some(i)
        })
        .unwrap_or(text.len());
    let before = &text[..end];
    let at = before.rfind('@')?;
    let query = &before[at + 1..];
    if query.chars().count() > 20 || query.chars().any(char::is_whitespace) {
        return None;
    }
    if before[..at].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(Typing { at, end, query: query.to_string() })
}

#[derive(Clone, PartialEq)]
enum Pick {
    Person(DirectoryUser),
    All,
}

#[component]
pub fn Composer(segments: Segments, channel_name: String, me: Me) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let actions = expect_context::<ChatActions>();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let input_ref: NodeRef<Textarea> = NodeRef::new();
    let may_mention_all = qiao_model::acl::mention_all(&qiao_model::acl::Actor { role: me.role, dept: None }).is_ok();
    let my_id = me.id;
    let me = StoredValue::new(me);
    let people = expect_people();
    // People picked from the picker in this draft: (id, name as inserted).
    let picked: RwSignal<Vec<(UserId, String)>> = RwSignal::new(Vec::new());
    let typing_mention: RwSignal<Option<Typing>> = RwSignal::new(None);
    let highlight = RwSignal::new(0usize);
    let choices = Memo::new(move |_| {
        let Some(t) = typing_mention.get() else { return Vec::new() };
        let mut out: Vec<Pick> = Vec::new();
        let q = t.query.to_lowercase();
        if may_mention_all && ("所有人".contains(&q) || "all".starts_with(&q) || "everyone".starts_with(&q)) {
            out.push(Pick::All);
        }
        out.extend(people.matching(&t.query, 8).into_iter().filter(|u| u.id != my_id).map(Pick::Person));
        out
    });
    let update_mention = move || {
        if let Some(el) = input_ref.get_untracked() {
            let caret = el.selection_start().ok().flatten().unwrap_or(0);
            let t = mention_at(&el.value(), caret);
            if t != typing_mention.get_untracked() {
                highlight.set(0);
                typing_mention.set(t);
            }
        }
    };

    // Tell the others in the channel that we are typing, at most every 3 s.
    let last_typing = StoredValue::new(0f64);
    let signal_typing = move |typing: bool| {
        let Some((_, doc)) = segments.open.get_untracked().last().copied() else { return };
        let me = me.get_value();
        let now = js_sys::Date::now();
        let signal = if typing {
            if now - last_typing.get_value() < 3000.0 {
                return;
            }
            last_typing.set_value(now);
            qiao_model::presence::Signal::Typing { user: me.id, name: me.display_name }
        } else {
            last_typing.set_value(0.0);
            qiao_model::presence::Signal::StoppedTyping { user: me.id }
        };
        actions.repo.with_value(|r| r.send_ephemeral(doc, signal.encode()));
    };
    let grow = move || {
        if let Some(el) = input_ref.get_untracked() {
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("height", "auto");
            let _ = style.set_property("height", &format!("{}px", el.scroll_height().min(200)));
        }
    };

    let send = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        let repo = repo.get_value();
        leptos::task::spawn_local(async move {
            let Some(id) = segments.writable().await else { return };
            let me = me.get_value();
            let mut msg =
                ChatMessage::new(storage::random_hex::<8>(), me.id, me.display_name.clone(), storage::now_ms(), body);
            msg.reply_to = actions.reply_to.get_untracked().map(|(id, _)| id);
            // Mentions still in the text when it is sent; `@所有人` only for those allowed (the
            // relay refuses it from anyone else).
            let mut mentions: Vec<UserId> = Vec::new();
            for (id, name) in picked.get_untracked() {
                if msg.text.contains(&format!("@{name}")) && !mentions.contains(&id) {
                    mentions.push(id);
                }
            }
            msg.mentions = mentions;
            msg.mention_all = may_mention_all && MENTION_ALL_TOKENS.iter().any(|t| msg.text.contains(t));
            match repo.change(id, |d| chat::append(d, &msg)) {
                Some(Ok(())) => {
                    signal_typing(false);
                    actions.reply_to.set(None);
                    picked.set(Vec::new());
                    typing_mention.set(None);
                    text.set(String::new());
                    error.set(None);
                    grow();
                }
                Some(Err(chat::ChatError::TooLong)) => error.set(Some(i18n.t("chat.too_long"))),
                _ => {}
            }
        });
    };
    let send2 = send.clone();

    // Insert the chosen mention in place of `@query`, caret after it.
    let insert = move |p: Pick| {
        let Some(t) = typing_mention.get_untracked() else { return };
        let token = match &p {
            Pick::All => MENTION_ALL_TOKENS[if i18n.locale.get_untracked() == crate::i18n::Locale::En { 1 } else { 0 }]
                .to_string(),
            Pick::Person(u) => format!("@{}", u.name),
        };
        if let Pick::Person(u) = p {
            picked.update(|v| v.push((u.id, u.name)));
        }
        let mut value = text.get_untracked();
        if t.end > value.len() || t.at > t.end {
            return;
        }
        value.replace_range(t.at..t.end, &format!("{token} "));
        let caret: u32 = value[..t.at].encode_utf16().count() as u32 + token.encode_utf16().count() as u32 + 1;
        text.set(value.clone());
        typing_mention.set(None);
        if let Some(el) = input_ref.get_untracked() {
            el.set_value(&value);
            let _ = el.set_selection_range(caret, caret);
            let _ = el.focus();
        }
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let n = choices.with_untracked(|c| c.len());
        if n > 0 && !ev.is_composing() {
            match ev.key().as_str() {
                "ArrowDown" => {
                    ev.prevent_default();
                    highlight.update(|h| *h = (*h + 1) % n);
                    return;
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    highlight.update(|h| *h = (*h + n - 1) % n);
                    return;
                }
                "Enter" | "Tab" => {
                    ev.prevent_default();
                    let i = highlight.get_untracked().min(n - 1);
                    if let Some(p) = choices.with_untracked(|c| c.get(i).cloned()) {
                        insert(p);
                    }
                    return;
                }
                "Escape" => {
                    ev.prevent_default();
                    typing_mention.set(None);
                    return;
                }
                _ => {}
            }
        }
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };

    // Files: the 📎 button, pasting, or dropping onto the composer queue them in the outbox.
    let uploads = super::uploads::expect_uploads();
    let file_ref: NodeRef<leptos::html::Input> = NodeRef::new();
    let queue_files = move |list: Option<web_sys::FileList>| {
        let Some(list) = list else { return };
        let channel = segments.channel.get_value();
        for i in 0..list.length() {
            if let Some(f) = list.get(i) {
                uploads.enqueue(channel.clone(), f);
            }
        }
    };
    let polling = RwSignal::new(false);
    let poll_me = me.get_value();
    let channel_name = StoredValue::new(channel_name);
    let placeholder = move || i18n.tf("chat.placeholder", &[("channel", channel_name.get_value())]);
    view! {
        <footer class="composer">
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || {
                actions
                    .reply_to
                    .get()
                    .map(|(_, name)| {
                        view! {
                            <div class="composer-reply" data-testid="composer-reply">
                                <span>{i18n.tf("chat.replying_to", &[("name", name)])}</span>
                                <button
                                    class="icon-btn"
                                    title=i18n.t("chat.cancel_reply")
                                    aria-label=i18n.t("chat.cancel_reply")
                                    on:click=move |_| actions.reply_to.set(None)
                                >
                                    "✕"
                                </button>
                            </div>
                        }
                    })
            }}
            <Show when=move || choices.with(|c| !c.is_empty())>
                <ul class="mention-picker" role="listbox" data-testid="mention-picker">
                    {move || {
                        choices
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(i, p)| {
                                let (label, sub, key) = match &p {
                                    Pick::All => (i18n.t("chat.mention_all"), i18n.t("chat.mention_all_hint"), "all".to_string()),
                                    Pick::Person(u) => (u.name.clone(), u.position.clone(), u.username.clone()),
                                };
                                view! {
                                    <li
                                        class="mention-option"
                                        role="option"
                                        class:active=move || highlight.get() == i
                                        aria-selected=move || if highlight.get() == i { "true" } else { "false" }
                                        data-testid="mention-option"
                                        data-username=key
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            insert(p.clone());
                                        }
                                    >
                                        <span class="avatar avatar-sm" aria-hidden="true">
                                            {label.chars().next().map(|c| c.to_string()).unwrap_or_default()}
                                        </span>
                                        <span class="mention-name">{label.clone()}</span>
                                        <span class="muted mention-sub">{sub}</span>
                                    </li>
                                }
                            })
                            .collect::<Vec<_>>()
                    }}
                </ul>
            </Show>
            <super::attachments::UploadRows channel=segments.channel.get_value() />
            <div
                class="composer-box"
                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                on:drop=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    queue_files(ev.data_transfer().and_then(|d| d.files()));
                }
            >
                <input
                    type="file"
                    multiple
                    class="sr-only"
                    node_ref=file_ref
                    data-testid="file-input"
                    on:change=move |ev| {
                        use wasm_bindgen::JsCast;
                        let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                        if let Some(input) = input {
                            queue_files(input.files());
                            input.set_value("");
                        }
                    }
                />
                <button
                    class="icon-btn composer-attach"
                    title=move || i18n.t("files.attach")
                    aria-label=move || i18n.t("files.attach")
                    data-testid="attach"
                    on:click=move |_| {
                        if let Some(el) = file_ref.get_untracked() {
                            el.click();
                        }
                    }
                >
                    "📎"
                </button>
                <button
                    class="icon-btn composer-poll"
                    title=move || i18n.t("poll.title")
                    aria-label=move || i18n.t("poll.title")
                    data-testid="poll-open"
                    on:click=move |_| polling.set(true)
                >
                    "📊"
                </button>
                <textarea
                    class="composer-input"
                    rows="1"
                    node_ref=input_ref
                    data-testid="composer-input"
                    placeholder=placeholder
                    aria-label=placeholder
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        signal_typing(!v.trim().is_empty());
                        text.set(v);
                        grow();
                        update_mention();
                    }
                    on:keydown=on_keydown
                    on:click=move |_| update_mention()
                    on:paste=move |ev: leptos::ev::ClipboardEvent| {
                        let files = ev.clipboard_data().and_then(|d| d.files());
                        if files.as_ref().is_some_and(|f| f.length() > 0) {
                            ev.prevent_default();
                            queue_files(files);
                        }
                    }
                    on:blur=move |_| typing_mention.set(None)
                ></textarea>
                <button
                    class="btn btn-primary composer-send"
                    data-testid="composer-send"
                    disabled=move || text.with(|t| t.trim().is_empty())
                    on:click=move |_| send2()
                >
                    {move || i18n.t("chat.send")}
                </button>
            </div>
            <div class="composer-hint">{move || i18n.t("chat.hint")}</div>
            <super::poll::PollDialog open=polling segments=segments me=poll_me />
        </footer>
    }
}
