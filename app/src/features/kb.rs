//! The knowledge base (知识库): spaces, their page trees and the pages.
//!
//! Every space's page tree is opened at start (from IndexedDB first, so the tree reads offline);
//! a page's document is opened when someone opens the page and is kept locally from then on.
//! Editing works offline like everything else. A page created offline may reach the relay
//! before the tree that names it; the relay then answers "unavailable", and the page is asked
//! for again once the tree has synced ([`Kb::provide`]).
//!
//! - [`page::KbPage`]: the space and tree rail, the page (title, toolbar, [`editor`]), and the
//!   side panel with comments and versions ([`side`]);
//! - [`templates`]: the page types offered when creating a page.

pub mod editor;
pub mod page;
pub mod search;
pub mod side;
pub mod templates;

use crate::api;
use crate::contexts::RepoRef;
use crate::storage;
use crate::sync::repo::ConnStatus;
use leptos::prelude::*;
use qiao_model::api::KbSpace;
use qiao_model::schema::kb;

#[derive(Clone, Copy)]
pub struct Kb {
    pub spaces: RwSignal<Vec<KbSpace>>,
    pub space: RwSignal<Option<String>>,
    pub page: RwSignal<Option<String>>,
    repo: RepoRef,
}

impl Kb {
    pub fn provide(repo: RepoRef) -> Kb {
        let spaces = storage::get_json::<Vec<KbSpace>>("qiao.kb_spaces").unwrap_or_default();
        let space = storage::get("qiao.kb_space").filter(|s| spaces.iter().any(|x| &x.id == s));
        let kb = Kb {
            space: RwSignal::new(space.or_else(|| spaces.first().map(|s| s.id.clone()))),
            spaces: RwSignal::new(spaces),
            page: RwSignal::new(storage::get("qiao.kb_page")),
            repo,
        };
        provide_context(kb);
        let status = repo.with_value(|r| r.status);
        Effect::new(move |_| {
            if status.get() == ConnStatus::Online {
                leptos::task::spawn_local(kb.refresh());
            }
        });
        Effect::new(move |_| {
            let ids: Vec<String> = kb.spaces.with(|l| l.iter().map(|s| s.id.clone()).collect());
            let r = repo.get_value();
            leptos::task::spawn_local(async move {
                for id in ids {
                    let g = id.clone();
                    r.open(kb::space_doc_id(&id), move || kb::space_genesis(&g)).await;
                }
            });
        });
        // Every page of every space is kept locally: pages read offline, and search covers them.
        Effect::new(move |_| {
            let mut wanted = Vec::new();
            for sp in kb.spaces.get() {
                let ids = kb.tree(&sp.id, kb::page_ids).unwrap_or_default();
                wanted.extend(ids.into_iter().map(|p| (sp.id.clone(), p)));
            }
            let r = repo.get_value();
            leptos::task::spawn_local(async move {
                for (space, page) in wanted {
                    let id = kb::page_doc_id(&space, &page);
                    if r.read_untracked(id, |_| ()).is_none() {
                        r.open(id, move || kb::page_genesis(&space, &page)).await;
                    }
                }
            });
        });
        // A page the relay did not know yet (made offline): ask again once its tree has synced.
        let unavailable = repo.with_value(|r| r.unavailable);
        Effect::new(move |_| {
            let Some(id) = unavailable.get() else { return };
            let (Some(space), Some(page)) = (kb.space.get_untracked(), kb.page.get_untracked()) else { return };
            if id != kb::page_doc_id(&space, &page) {
                return;
            }
            let r = repo.get_value();
            leptos::task::spawn_local(async move {
                for wait in [500, 1500, 4000] {
                    crate::storage::sleep_ms(wait).await;
                    r.resync(kb::space_doc_id(&space));
                    crate::storage::sleep_ms(300).await;
                    r.resync(id);
                }
            });
        });
        kb
    }

    pub async fn refresh(self) {
        let Ok(list) = api::get::<Vec<KbSpace>>("/api/kb/spaces").await else { return };
        storage::set_json("qiao.kb_spaces", &list);
        if self.space.get_untracked().is_none_or(|s| !list.iter().any(|x| x.id == s)) {
            self.space.set(list.first().map(|s| s.id.clone()));
        }
        if self.spaces.get_untracked() != list {
            self.spaces.set(list);
        }
    }

    pub fn current_space(&self) -> Option<KbSpace> {
        let id = self.space.get()?;
        self.spaces.with(|l| l.iter().find(|s| s.id == id).cloned())
    }

    pub fn select_space(&self, id: String) {
        storage::set("qiao.kb_space", &id);
        self.space.set(Some(id));
        self.select_page(None);
    }

    pub fn select_page(&self, id: Option<String>) {
        match &id {
            Some(p) => storage::set("qiao.kb_page", p),
            None => storage::remove("qiao.kb_page"),
        }
        self.page.set(id);
    }

    /// Read the tree of `space` (tracked).
    pub fn tree<R>(&self, space: &str, f: impl FnOnce(&automerge::AutoCommit) -> R) -> Option<R> {
        self.repo.with_value(|r| r.read(kb::space_doc_id(space), f))
    }

    pub fn change_tree<T>(
        &self,
        space: &str,
        f: impl FnOnce(&mut automerge::AutoCommit) -> Result<T, kb::KbError>,
    ) -> Option<Result<T, kb::KbError>> {
        self.repo.with_value(|r| r.change(kb::space_doc_id(space), f))
    }

    pub fn repo(&self) -> RepoRef {
        self.repo
    }
}

pub fn expect_kb() -> Kb {
    expect_context::<Kb>()
}
