//! The message list: day dividers, grouped consecutive messages, newest at the bottom.

use crate::i18n::expect_i18n;
use leptos::html::Div;
use leptos::prelude::*;
use qiao_model::ids::UserId;
use qiao_model::schema::chat::ChatMessage;

#[derive(Clone, PartialEq)]
struct Row {
    msg: ChatMessage,
    /// Same author as the previous message within 5 minutes: no avatar, no header.
    continued: bool,
    /// A date line above this message.
    day: Option<String>,
}

fn date_parts(ts: i64) -> (String, String) {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts as f64));
    let day = format!("{:04}-{:02}-{:02}", d.get_full_year(), d.get_month() + 1, d.get_date());
    let time = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
    (day, time)
}

fn rows(messages: &[ChatMessage]) -> Vec<Row> {
    let mut out = Vec::with_capacity(messages.len());
    let mut prev: Option<&ChatMessage> = None;
    let mut prev_day = String::new();
    for m in messages {
        let (day, _) = date_parts(m.ts);
        let new_day = day != prev_day;
        let continued = !new_day && prev.is_some_and(|p| p.author == m.author && (m.ts - p.ts).abs() < 5 * 60 * 1000);
        out.push(Row { msg: m.clone(), continued, day: new_day.then(|| day.clone()) });
        prev_day = day;
        prev = Some(m);
    }
    out
}

#[component]
pub fn MessageList(
    messages: Memo<Vec<ChatMessage>>,
    me: UserId,
    loading: RwSignal<bool>,
    can_load_earlier: Memo<bool>,
    on_load_earlier: Callback<()>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let list_ref: NodeRef<Div> = NodeRef::new();
    let rows = Memo::new(move |_| messages.with(|m| rows(m)));
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
                key=|r| (r.msg.id.clone(), r.continued, r.day.clone(), r.msg.text.clone())
                children=move |r| {
                    let (_, time) = date_parts(r.msg.ts);
                    let mine = r.msg.author == me;
                    let initial: String = r
                        .msg
                        .author_name
                        .chars()
                        .next()
                        .map(|c| c.to_uppercase().collect())
                        .unwrap_or_default();
                    let day = r.day.clone().map(|d| {
                        let label = if d == today { i18n.t("chat.today") } else { d };
                        view! { <div class="day-divider"><span>{label}</span></div> }
                    });
                    view! {
                        {day}
                        <div
                            class="message"
                            class:message-continued=r.continued
                            class:message-mine=mine
                            data-testid="message"
                            data-message-id=r.msg.id.clone()
                            data-author=r.msg.author_name.clone()
                        >
                            <span class="avatar" aria-hidden="true">{initial}</span>
                            <div class="message-body">
                                <div class="message-meta">
                                    <span class="message-author">{r.msg.author_name.clone()}</span>
                                    <time class="message-time">{time}</time>
                                </div>
                                // Plain text: Leptos escapes it, so markup in a message is shown, never run.
                                <div class="message-text" data-testid="message-text">{r.msg.text.clone()}</div>
                            </div>
                        </div>
                    }
                }
            />
        </div>
    }
}
