//! "Mentions" (提及我的): every message in this browser's copy that mentions the user, by name or
//! through `@所有人`, newest first; picking one opens it in its conversation.

use super::search_panel::FocusMessage;
use super::shell::Channels;
use crate::contexts::RepoRef;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::ids::{ChannelId, UserId};
use qiao_model::markdown::excerpt;
use qiao_model::schema::chat;

#[derive(Clone, PartialEq)]
struct Mention {
    id: String,
    channel: ChannelId,
    author_name: String,
    ts: i64,
    snippet: String,
}

#[component]
pub fn MentionsPanel(open: RwSignal<bool>, repo: RepoRef, me: UserId) -> impl IntoView {
    let i18n = expect_i18n();
    let channels = expect_context::<Channels>();
    let focus = expect_context::<FocusMessage>();
    let list = Memo::new(move |_| {
        let mut out: Vec<Mention> = Vec::new();
        repo.with_value(|r| {
            for (doc, _) in r.open_docs() {
                let Some((Some(channel), msgs)) = r.read(doc, |d| (chat::channel_of(d), chat::messages(d))) else {
                    continue;
                };
                out.extend(msgs.into_iter().filter(|m| !m.deleted && m.author != me && m.mentions_user(me)).map(|m| {
                    Mention {
                        id: m.id,
                        channel: channel.clone(),
                        author_name: m.author_name,
                        ts: m.ts,
                        snippet: excerpt(&m.text, 120),
                    }
                }));
            }
        });
        out.sort_by(|a, b| b.ts.cmp(&a.ts));
        out.truncate(100);
        out
    });
    let go = move |m: &Mention| {
        channels.select(m.channel.clone());
        focus.0.set(Some(m.id.clone()));
        open.set(false);
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <div
                class="modal search-modal"
                role="dialog"
                aria-modal="true"
                aria-label=move || i18n.t("mentions.title")
                data-testid="mentions-panel"
                tabindex="-1"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        open.set(false);
                    }
                }
            >
                <h3 class="modal-title">{move || i18n.t("mentions.title")}</h3>
                <div class="search-results">
                    <Show when=move || list.with(|l| l.is_empty())>
                        <p class="muted search-empty">{move || i18n.t("mentions.empty")}</p>
                    </Show>
                    <For
                        each=move || list.get()
                        key=|m| m.id.clone()
                        children=move |m| {
                            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(m.ts as f64));
                            let when = format!("{}-{:02}-{:02} {:02}:{:02}", d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes());
                            let name = channels
                                .list
                                .with_untracked(|l| l.iter().find(|c| c.id == m.channel).map(super::sidebar::display_name))
                                .unwrap_or_default();
                            let m2 = m.clone();
                            view! {
                                <button class="search-result" data-testid="mention-result" on:click=move |_| go(&m2)>
                                    <div class="search-result-meta">
                                        <span class="message-author">{m.author_name.clone()}</span>
                                        <span class="muted">{name}</span>
                                        <time class="message-time">{when}</time>
                                    </div>
                                    <div class="search-result-text">{m.snippet.clone()}</div>
                                </button>
                            }
                        }
                    />
                </div>
            </div>
        </div>
    }
}
