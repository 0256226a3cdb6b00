//! Search in the knowledge base: titles and text of every page this browser holds (all pages of
//! every space are kept locally), Chinese and English, offline, ranked — the same tokenizer and
//! ranking as message search ([`qiao_model::search`]); a title match counts three times.

use super::expect_kb;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::ids::ChannelId;
use qiao_model::markdown::excerpt;
use qiao_model::schema::kb;
use qiao_model::search::{Entry, Index, Query};

#[derive(Clone, PartialEq)]
pub struct Found {
    pub space: String,
    pub page: String,
    pub title: String,
    pub snippet: String,
}

/// Pages matching `q`, best first.
pub fn search(q: &str) -> Vec<Found> {
    search_in(expect_kb(), q)
}

/// [`search`] with the knowledge base given (from where its context is not reachable).
pub fn search_in(kb_ctx: super::Kb, q: &str) -> Vec<Found> {
    let repo = kb_ctx.repo();
    let mut index = Index::new();
    let mut meta = std::collections::HashMap::new();
    for sp in kb_ctx.spaces.get() {
        let pages = kb_ctx.tree(&sp.id, kb::pages).unwrap_or_default();
        for p in pages {
            let text = repo
                .with_value(|r| r.read(kb::page_doc_id(&sp.id, &p.id), |d| kb::plain_text(&kb::blocks(d))))
                .unwrap_or_default();
            let key = format!("{}/{}", sp.id, p.id);
            index.upsert(Entry {
                id: key.clone(),
                channel: ChannelId(sp.id.clone()),
                author: p.created_by,
                author_name: String::new(),
                ts: p.created_at,
                text: format!("{t}\n{t}\n{t}\n{text}", t = p.title),
            });
            meta.insert(key, (sp.id.clone(), p.id.clone(), p.title.clone(), text));
        }
    }
    let hits = index.search(&Query { text: q.to_string(), limit: 30, ..Default::default() });
    hits.into_iter()
        .filter_map(|h| meta.get(&h.entry.id))
        .map(|(space, page, title, text)| Found {
            space: space.clone(),
            page: page.clone(),
            title: title.clone(),
            snippet: excerpt(text, 80),
        })
        .collect()
}

#[component]
pub fn KbSearch(query: RwSignal<String>) -> impl IntoView {
    let i18n = expect_i18n();
    let kb_ctx = expect_kb();
    let results = Memo::new(move |_| {
        let q = query.get();
        if q.trim().is_empty() { Vec::new() } else { search(&q) }
    });
    view! {
        <input class="input input-sm kb-search" type="search" data-testid="kb-search"
            placeholder=move || i18n.t("kb.search")
            prop:value=move || query.get()
            on:input=move |ev| query.set(event_target_value(&ev))
        />
        <Show when=move || !query.with(|q| q.trim().is_empty())>
            <ul class="kb-results" data-testid="kb-results">
                <For each=move || results.get() key=|f| (f.space.clone(), f.page.clone()) children=move |f| {
                    let (s, p) = (f.space.clone(), f.page.clone());
                    view! {
                        <li>
                            <button class="kb-result" data-testid="kb-result" data-title=f.title.clone()
                                on:click=move |_| {
                                    if kb_ctx.space.get_untracked().as_deref() != Some(s.as_str()) {
                                        kb_ctx.select_space(s.clone());
                                    }
                                    kb_ctx.select_page(Some(p.clone()));
                                    query.set(String::new());
                                }
                            >
                                <strong>{f.title.clone()}</strong>
                                <span class="muted">{f.snippet.clone()}</span>
                            </button>
                        </li>
                    }
                } />
                <Show when=move || results.with(|r| r.is_empty())>
                    <li class="muted rail-empty">{move || i18n.t("kb.no_results")}</li>
                </Show>
            </ul>
        </Show>
    }
}
