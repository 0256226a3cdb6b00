//! The composer: Enter sends, Shift+Enter breaks the line, and Enter while an input method is
//! composing (pinyin!) is left to the input method.

use super::channel_view::{ChatActions, Segments};
use crate::contexts::expect_repo;
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::html::Textarea;
use leptos::prelude::*;
use qiao_model::api::Me;
use qiao_model::schema::chat::{self, ChatMessage};

#[component]
pub fn Composer(segments: Segments, channel_name: String, me: Me) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let actions = expect_context::<ChatActions>();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let input_ref: NodeRef<Textarea> = NodeRef::new();
    let me = StoredValue::new(me);

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
            match repo.change(id, |d| chat::append(d, &msg)) {
                Some(Ok(())) => {
                    signal_typing(false);
                    actions.reply_to.set(None);
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

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };

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
            <div class="composer-box">
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
                    }
                    on:keydown=on_keydown
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
        </footer>
    }
}
