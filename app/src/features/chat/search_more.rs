//! Search beyond messages (Ctrl+K): knowledge-base pages, announcements and file names, each from
//! what the device holds (pages and announcements are synced documents, the library's file names
//! its last answer), so it works offline. Ranked the same way as messages; a few of each kind
//! above the messages, and a click opens the page, the announcement or the file's folder.

use crate::contexts::RepoRef;
use crate::features::admin::{Nav, Page};
use crate::features::kb::Kb;
use crate::features::library::LibraryState;
use crate::i18n::expect_i18n;
use leptos::prelude::*;

/// How many of each kind are shown.
const PER_KIND: usize = 5;

#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Page { space: String, page: String },
    Announcement(String),
    Folder(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub target: Target,
    pub title: String,
    pub detail: String,
}

/// What the other parts of the app hold matching `q`: pages, then announcements, then files.
#[derive(Clone, Copy)]
pub struct Others {
    kb: Option<Kb>,
    library: Option<LibraryState>,
    repo: RepoRef,
}

impl Others {
    /// Read here, where the contexts are reachable.
    pub fn new(repo: RepoRef) -> Others {
        Others { kb: use_context::<Kb>(), library: use_context::<LibraryState>(), repo }
    }

    pub fn find(&self, q: &str, me: &qiao_model::api::Me, dept: &str) -> Vec<(&'static str, Vec<Found>)> {
        let mut out = Vec::new();
        if let Some(kb) = self.kb {
            let pages = crate::features::kb::search::search_in(kb, q)
                .into_iter()
                .take(PER_KIND)
                .map(|f| Found {
                    target: Target::Page { space: f.space, page: f.page },
                    title: f.title,
                    detail: f.snippet,
                })
                .collect();
            out.push(("search.kind.pages", pages));
        }
        let anns = crate::features::announcements::search(self.repo, me, dept, q)
            .into_iter()
            .take(PER_KIND)
            .map(|(id, title, detail)| Found { target: Target::Announcement(id), title, detail })
            .collect();
        out.push(("search.kind.announcements", anns));
        if let Some(lib) = self.library {
            let files = lib.lib.with_untracked(|l| {
                crate::features::library::find(&l.files, q)
                    .into_iter()
                    .take(PER_KIND)
                    .map(|f| {
                        let folder =
                            l.folders.iter().find(|x| x.id == f.folder).map(|x| x.name.clone()).unwrap_or_default();
                        Found {
                            target: Target::Folder(f.folder),
                            title: f.name,
                            detail: format!("📁 {folder} · {}", f.by_name),
                        }
                    })
                    .collect()
            });
            out.push(("search.kind.files", files));
        }
        out.retain(|(_, v): &(&str, Vec<Found>)| !v.is_empty());
        out
    }

    /// Open what `f` found (`focus`: the announcements page's, to scroll to one).
    pub fn open(&self, nav: Nav, focus: Option<crate::features::announcements::Focus>, f: &Found) {
        match &f.target {
            Target::Page { space, page } => {
                if let Some(kb) = self.kb {
                    if kb.space.get_untracked().as_deref() != Some(space.as_str()) {
                        kb.select_space(space.clone());
                    }
                    kb.select_page(Some(page.clone()));
                }
                nav.page.set(Page::Kb);
            }
            Target::Announcement(id) => {
                if let Some(crate::features::announcements::Focus(focus)) = focus {
                    focus.set(Some(id.clone()));
                }
                nav.page.set(Page::Announcements);
            }
            Target::Folder(folder) => {
                if let Some(lib) = self.library {
                    lib.select(Some(folder.clone()));
                }
                nav.page.set(Page::Library);
            }
        }
    }
}

/// The groups, above the messages.
#[component]
pub fn OtherResults(
    groups: Memo<Vec<(&'static str, Vec<Found>)>>,
    others: Others,
    open: RwSignal<bool>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let nav = crate::features::admin::expect_nav();
    // Read here: `open` runs from a click, outside any owner that reaches the context.
    let focus = use_context::<crate::features::announcements::Focus>();
    view! {
        <For each=move || groups.get() key=|(k, v)| (*k, v.len(), v.first().map(|f| f.title.clone())) children=move |(kind, found)| {
            view! {
                <section class="search-group" data-testid="search-group" data-kind=kind>
                    <h4 class="search-group-title">{move || i18n.t(kind)}</h4>
                    {found.into_iter().map(|f| {
                        let f2 = f.clone();
                        view! {
                            <button class="search-result search-other" data-testid="search-other" data-title=f.title.clone()
                                on:click=move |_| {
                                    others.open(nav, focus, &f2);
                                    open.set(false);
                                }
                            >
                                <div class="search-result-meta"><strong>{f.title.clone()}</strong></div>
                                <div class="search-result-text muted">{f.detail.clone()}</div>
                            </button>
                        }
                    }).collect_view()}
                </section>
            }
        } />
    }
}
