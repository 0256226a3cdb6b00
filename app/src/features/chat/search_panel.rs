//! Search (Ctrl+K): instant full-text search over every message this browser holds, offline,
//! in Chinese and English, filtered by person, conversation and date. The index
//! (`qiao_model::search`) is kept beside the open documents and updated only for documents whose
//! version changed since the last query.

use super::shell::Channels;
use crate::contexts::RepoRef;
use crate::i18n::expect_i18n;
use leptos::html::Input;
use leptos::prelude::*;
use qiao_model::ids::{ChannelId, DocumentId, UserId};
use qiao_model::markdown::excerpt;
use qiao_model::schema::chat;
use qiao_model::search::{Entry, Index, Query};
use std::collections::HashMap;

/// The index and the document versions it reflects.
#[derive(Default)]
pub struct SearchIndex {
    index: Index,
    seen: HashMap<DocumentId, u64>,
    ids_in: HashMap<DocumentId, Vec<String>>,
}

impl SearchIndex {
    /// Bring the index up to date with the repository's open documents.
    pub fn refresh(&mut self, repo: &crate::sync::repo::Repo) {
        for (doc, version) in repo.open_docs() {
            if self.seen.get(&doc) == Some(&version) {
                continue;
            }
            let Some((channel, msgs)) = repo.read_untracked(doc, |d| (chat::channel_of(d), chat::messages(d))) else {
                continue;
            };
            let Some(channel) = channel else { continue };
            for old in self.ids_in.remove(&doc).unwrap_or_default() {
                self.index.remove(&old);
            }
            let mut ids = Vec::with_capacity(msgs.len());
            for m in msgs.into_iter().filter(|m| !m.deleted) {
                ids.push(m.id.clone());
                self.index.upsert(Entry {
                    id: m.id,
                    channel: channel.clone(),
                    author: m.author,
                    author_name: m.author_name,
                    ts: m.ts,
                    text: m.text,
                });
            }
            self.ids_in.insert(doc, ids);
            self.seen.insert(doc, version);
        }
    }
}

/// Which message the channel view should scroll to (set by a search result).
#[derive(Clone, Copy)]
pub struct FocusMessage(pub RwSignal<Option<String>>);

#[derive(Clone, PartialEq)]
struct Result {
    id: String,
    channel: ChannelId,
    channel_name: String,
    author_name: String,
    ts: i64,
    snippet: String,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

#[component]
pub fn SearchPanel(open: RwSignal<bool>, repo: RepoRef) -> impl IntoView {
    let i18n = expect_i18n();
    let channels = expect_context::<Channels>();
    let focus = expect_context::<FocusMessage>();
    let index = StoredValue::new_local(SearchIndex::default());
    let text = RwSignal::new(String::new());
    let channel = RwSignal::new(String::new());
    let author = RwSignal::new(String::new());
    let days = RwSignal::new(0i64);
    let input_ref: NodeRef<Input> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = input_ref.get() {
            let _ = el.focus();
        }
    });

    // People seen in local messages, for the person filter.
    let people = Memo::new(move |_| {
        index.update_value(|ix| repo.with_value(|r| ix.refresh(r)));
        let mut seen: Vec<(UserId, String)> = Vec::new();
        repo.with_value(|r| {
            for (doc, _) in r.open_docs() {
                for m in r.read_untracked(doc, chat::messages).unwrap_or_default() {
                    if !seen.iter().any(|(u, _)| *u == m.author) {
                        seen.push((m.author, m.author_name));
                    }
                }
            }
        });
        seen.sort_by(|a, b| a.1.cmp(&b.1));
        seen
    });

    let results = Memo::new(move |_| {
        let q = Query {
            text: text.get(),
            author: author.get().parse::<i64>().ok().map(UserId),
            channel: Some(channel.get()).filter(|c| !c.is_empty()).map(ChannelId),
            from: Some(days.get()).filter(|d| *d > 0).map(|d| js_sys::Date::now() as i64 - d * DAY_MS),
            to: None,
            limit: 50,
        };
        let names: HashMap<ChannelId, String> = channels.list.get().into_iter().map(|c| (c.id, c.name)).collect();
        index.update_value(|ix| repo.with_value(|r| ix.refresh(r)));
        index.with_value(|ix| {
            ix.index
                .search(&q)
                .into_iter()
                .map(|h| Result {
                    id: h.entry.id.clone(),
                    channel_name: names.get(&h.entry.channel).cloned().unwrap_or_default(),
                    channel: h.entry.channel.clone(),
                    author_name: h.entry.author_name.clone(),
                    ts: h.entry.ts,
                    snippet: excerpt(&h.entry.text, 120),
                })
                .collect::<Vec<_>>()
        })
    });

    // Pages, announcements and file names too.
    let others = super::search_more::Others::new(repo);
    let me = crate::contexts::expect_session().me.get_untracked().expect("logged in");
    let directory = super::people::expect_people();
    let groups = Memo::new(move |_| {
        let q = text.get();
        if q.trim().is_empty() {
            return Vec::new();
        }
        let dept = directory.list.with(|l| {
            l.iter()
                .find(|u| u.id == me.id)
                .and_then(|u| u.department.as_ref().map(|d| d.0.clone()))
                .unwrap_or_default()
        });
        others.find(&q, &me, &dept)
    });

    let go = move |r: &Result| {
        channels.select(r.channel.clone());
        focus.0.set(Some(r.id.clone()));
        open.set(false);
    };

    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <div
                class="modal search-modal"
                role="dialog"
                aria-modal="true"
                data-testid="search-panel"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        open.set(false);
                    }
                }
            >
                <input
                    class="input search-input"
                    type="search"
                    node_ref=input_ref
                    data-testid="search-input"
                    placeholder=move || i18n.t("search.placeholder")
                    aria-label=move || i18n.t("search.placeholder")
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
                <div class="search-filters">
                    <select
                        class="select select-sm"
                        data-testid="search-channel"
                        aria-label=move || i18n.t("search.in_channel")
                        on:change=move |ev| channel.set(event_target_value(&ev))
                    >
                        <option value="">{move || i18n.t("search.all_channels")}</option>
                        <For
                            each=move || channels.list.get()
                            key=|c| c.id.clone()
                            children=move |c| view! { <option value=c.id.to_string()>{c.name.clone()}</option> }
                        />
                    </select>
                    <select
                        class="select select-sm"
                        data-testid="search-author"
                        aria-label=move || i18n.t("search.from_person")
                        on:change=move |ev| author.set(event_target_value(&ev))
                    >
                        <option value="">{move || i18n.t("search.anyone")}</option>
                        <For
                            each=move || people.get()
                            key=|p| p.0
                            children=move |(id, name)| view! { <option value=id.to_string()>{name}</option> }
                        />
                    </select>
                    <select
                        class="select select-sm"
                        data-testid="search-date"
                        aria-label=move || i18n.t("search.when")
                        on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(0))
                    >
                        <option value="0">{move || i18n.t("search.any_time")}</option>
                        <option value="1">{move || i18n.t("search.today")}</option>
                        <option value="7">{move || i18n.t("search.week")}</option>
                        <option value="30">{move || i18n.t("search.month")}</option>
                    </select>
                </div>
                <div class="search-results" data-testid="search-results">
                    <super::search_more::OtherResults groups=groups others=others open=open />
                    <Show when=move || !text.with(|t| t.trim().is_empty()) && results.with(|r| r.is_empty()) && groups.with(|g| g.is_empty())>
                        <p class="muted search-empty">{move || i18n.t("search.nothing")}</p>
                    </Show>
                    <Show when=move || text.with(|t| t.trim().is_empty())>
                        <p class="muted search-empty">{move || i18n.t("search.hint")}</p>
                    </Show>
                    <Show when=move || !groups.with(|g| g.is_empty()) && !results.with(|r| r.is_empty())>
                        <h4 class="search-group-title">{move || i18n.t("search.kind.messages")}</h4>
                    </Show>
                    <For
                        each=move || results.get()
                        key=|r| r.id.clone()
                        children=move |r| {
                            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(r.ts as f64));
                            let when = format!("{}-{:02}-{:02} {:02}:{:02}", d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes());
                            let r2 = r.clone();
                            view! {
                                <button class="search-result" data-testid="search-result" on:click=move |_| go(&r2)>
                                    <div class="search-result-meta">
                                        <span class="message-author">{r.author_name.clone()}</span>
                                        <span class="muted">"#"{r.channel_name.clone()}</span>
                                        <time class="message-time">{when}</time>
                                    </div>
                                    <div class="search-result-text">{r.snippet.clone()}</div>
                                </button>
                            }
                        }
                    />
                </div>
            </div>
        </div>
    }
}
