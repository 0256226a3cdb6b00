//! The file library (文件): folders of the company, of departments and of projects, files with
//! versions, approval, previews, and finding a file by name.
//!
//! The library lives at the relay (it decides approval and deletion, see
//! `qiao_model::library`); the page shows the relay's last answers, kept in local storage, so
//! the folders, the files and their names are there offline and searchable. A file chosen for
//! upload goes through the app's file outbox, as in chat, so offline, a reload or a dropped
//! connection loses nothing (see [`upload`]). The folder tree is grouped by
//! place; the selected folder's files are a table, each row with its versions behind a toggle.

pub mod files_table;
pub mod folder_dialog;
pub mod upload;

use crate::api;
use crate::i18n::{I18n, expect_i18n};
use crate::storage;
use leptos::prelude::*;
use qiao_model::ids::ChannelId;
use qiao_model::library::{FileBrief, Folder, FolderListing, Library, Place};
use qiao_model::search::{Entry, Index, Query};

const LIBRARY_KEY: &str = "qiao.library";
const SELECTED_KEY: &str = "qiao.library.selected";

/// How often an open library page asks the relay again.
const REFRESH_MS: i32 = 20_000;
/// How often an approver's app asks in the background (for the sidebar's count).
const BACKGROUND_MS: i32 = 60_000;

fn listing_key(folder: &str) -> String {
    format!("qiao.library.folder.{folder}")
}

/// The page's state: the relay's last answers and what is selected.
#[derive(Clone, Copy)]
pub struct LibraryState {
    pub lib: RwSignal<Library>,
    pub selected: RwSignal<Option<String>>,
    pub listing: RwSignal<Option<FolderListing>>,
    /// The last refusal or failure to show (cleared by the next action).
    pub error: RwSignal<Option<String>>,
}

impl LibraryState {
    /// The state for the whole session (search opens folders from anywhere). For people who
    /// approve files (admins), the folders are looked at now and then in the background too, so
    /// the sidebar can say that files wait for them.
    pub fn provide(me: &qiao_model::api::Me, status: RwSignal<crate::sync::repo::ConnStatus>) -> LibraryState {
        let s = LibraryState::new();
        provide_context(s);
        if me.role != qiao_model::acl::Role::Employee {
            // Ends when the session does (logging out disposes the signals).
            leptos::task::spawn_local(async move {
                loop {
                    let Some(now) = status.try_get_untracked() else { break };
                    if now == crate::sync::repo::ConnStatus::Online
                        && let Ok(lib) = api::get::<Library>("/api/library").await
                    {
                        let Some(shown) = s.lib.try_get_untracked() else { break };
                        if shown != lib {
                            storage::set_json(LIBRARY_KEY, &lib);
                            s.lib.try_set(lib);
                        }
                    }
                    storage::sleep_ms(BACKGROUND_MS).await;
                }
            });
        }
        s
    }

    fn new() -> LibraryState {
        let selected: Option<String> = storage::get(SELECTED_KEY);
        let listing = selected.as_deref().and_then(|s| storage::get_json(&listing_key(s)));
        LibraryState {
            lib: RwSignal::new(storage::get_json(LIBRARY_KEY).unwrap_or_default()),
            selected: RwSignal::new(selected),
            listing: RwSignal::new(listing),
            error: RwSignal::new(None),
        }
    }

    pub fn select(self, id: Option<String>) {
        match &id {
            Some(s) => storage::set(SELECTED_KEY, s),
            None => storage::remove(SELECTED_KEY),
        }
        self.listing.set(id.as_deref().and_then(|s| storage::get_json(&listing_key(s))));
        self.selected.set(id);
        self.error.set(None);
        leptos::task::spawn_local(self.refresh());
    }

    /// Ask the relay for the folders and the selected folder's files; offline, keep what is
    /// shown. (The answers may come after the person logged out: then nothing is kept.)
    pub async fn refresh(self) {
        if let Ok(lib) = api::get::<Library>("/api/library").await {
            // A folder that went away (deleted, or no longer readable) is deselected.
            let Some(gone) = self
                .selected
                .try_with_untracked(|s| s.as_ref().is_some_and(|s| !lib.folders.iter().any(|f| &f.id == s)))
            else {
                return;
            };
            storage::set_json(LIBRARY_KEY, &lib);
            self.lib.try_set(lib);
            if gone {
                self.selected.try_set(None);
                self.listing.try_set(None);
                storage::remove(SELECTED_KEY);
            }
        }
        let Some(Some(id)) = self.selected.try_get_untracked() else { return };
        match api::get::<FolderListing>(&format!("/api/library/folders/{id}")).await {
            Ok(l) if self.selected.try_get_untracked().flatten().as_deref() == Some(id.as_str()) => {
                storage::set_json(&listing_key(&id), &l);
                self.listing.try_set(Some(l));
            }
            _ => {}
        }
    }

    pub fn folder(self, id: &str) -> Option<Folder> {
        self.lib.with(|l| l.folders.iter().find(|f| f.id == id).cloned())
    }
}

pub fn expect_library() -> LibraryState {
    expect_context::<LibraryState>()
}

/// What a place is called in the tree.
pub fn place_label(i18n: I18n, f: &Folder) -> String {
    match f.place {
        Place::Company => i18n.t("library.company"),
        _ => f.place_name.clone(),
    }
}

fn place_key(p: &Place) -> String {
    match p {
        Place::Company => "0".into(),
        Place::Dept(d) => format!("1{d}"),
        Place::Project(p) => format!("2{p}"),
    }
}

/// Files whose names match `q`, best first: the same tokenizer and ranking as message search.
pub fn find(files: &[FileBrief], q: &str) -> Vec<FileBrief> {
    let mut index = Index::new();
    for f in files {
        // Extensions split off so that "pdf" and "合同" both find "合同.pdf".
        let text = f.name.replace(['.', '_', '-'], " ");
        index.upsert(Entry {
            id: f.id.clone(),
            channel: ChannelId(f.folder.clone()),
            author: Default::default(),
            author_name: String::new(),
            ts: f.updated_at,
            text: format!("{} {text}", f.name),
        });
    }
    let hits = index.search(&Query { text: q.to_string(), limit: 50, ..Default::default() });
    hits.into_iter().filter_map(|h| files.iter().find(|f| f.id == h.entry.id).cloned()).collect()
}

#[component]
fn FolderTree(state: LibraryState, parent: Option<String>, place: Place, depth: usize) -> impl IntoView {
    let children = move || {
        state
            .lib
            .with(|l| l.folders.iter().filter(|f| f.parent == parent && f.place == place).cloned().collect::<Vec<_>>())
    };
    view! {
        <ul class="lib-tree-level" role="group">
            <For each=children key=|f| (f.id.clone(), f.name.clone(), f.files, f.pending) children=move |f: Folder| {
                let id = f.id.clone();
                let id2 = f.id.clone();
                let pl = f.place.clone();
                let pending = f.pending;
                view! {
                    <li role="treeitem">
                        <button class="lib-folder" data-testid="lib-folder" data-name=f.name.clone()
                            style=format!("padding-left: calc(var(--space-2) + {}rem)", depth as f32 * 0.9)
                            aria-current=move || (state.selected.get().as_deref() == Some(id.as_str())).to_string()
                            on:click=move |_| state.select(Some(id2.clone()))
                        >
                            <span class="lib-folder-icon" aria-hidden="true">{if f.needs_approval { "🗂" } else { "📁" }}</span>
                            <span class="lib-folder-name">{f.name.clone()}</span>
                            {(pending > 0).then(|| view! { <span class="badge badge-mention" data-testid="lib-folder-pending">{pending}</span> })}
                            {(pending == 0 && f.files > 0).then(|| view! { <span class="muted lib-folder-count">{f.files}</span> })}
                        </button>
                        <FolderTree state=state parent=Some(f.id.clone()) place=pl depth=depth + 1 />
                    </li>
                }
            } />
        </ul>
    }
    .into_any()
}

#[component]
pub fn LibraryPage(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let state = expect_library();
    leptos::task::spawn_local(state.refresh());
    // Back online: what changed meanwhile.
    let status = crate::contexts::expect_repo().with_value(|r| r.status);
    Effect::new(move |prev: Option<bool>| {
        let online = status.get() == crate::sync::repo::ConnStatus::Online;
        if prev == Some(false) && online {
            leptos::task::spawn_local(state.refresh());
        }
        online
    });
    // While the page is open, look again now and then (others add, approve and delete files;
    // the relay does not push library changes), and whenever the tab comes back into view.
    let alive = StoredValue::new(true);
    on_cleanup(move || alive.set_value(false));
    leptos::task::spawn_local(async move {
        loop {
            storage::sleep_ms(REFRESH_MS).await;
            if !alive.try_get_value().unwrap_or(false) {
                break;
            }
            state.refresh().await;
        }
    });
    let _visible = window_event_listener(leptos::ev::visibilitychange, move |_| {
        let shown = web_sys::window().and_then(|w| w.document()).is_some_and(|d| !d.hidden());
        if shown {
            leptos::task::spawn_local(state.refresh());
        }
    });
    let query = RwSignal::new(String::new());
    let creating = RwSignal::new(None::<folder_dialog::Target>);
    let results = Memo::new(move |_| {
        let q = query.get();
        if q.trim().is_empty() { Vec::new() } else { state.lib.with(|l| find(&l.files, &q)) }
    });
    // Top folders grouped by place, the company first, then departments, then projects.
    let places = Memo::new(move |_| {
        let mut seen: Vec<(String, Place, String)> = Vec::new();
        state.lib.with(|l| {
            for f in l.folders.iter().filter(|f| f.parent.is_none()) {
                let k = place_key(&f.place);
                if !seen.iter().any(|(s, _, _)| *s == k) {
                    seen.push((k, f.place.clone(), place_label(i18n, f)));
                }
            }
        });
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        seen
    });
    let may_create = Memo::new(move |_| state.lib.with(|l| !l.may_create_in.is_empty()));
    let search_input = NodeRef::<leptos::html::Input>::new();
    // "/" focuses the search, as in most file managers and chat apps.
    let _keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA") || el.is_content_editable());
        if ev.key() == "/" && !typing {
            if let Some(el) = search_input.get() {
                ev.prevent_default();
                let _ = el.focus();
            }
        }
    });

    view! {
        <header class="chat-header lib-header">
            <button class="sidebar-toggle icon-btn" aria-label=move || i18n.t("sidebar.open_menu") data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title">{move || i18n.t("library.title")}</h2>
            <input class="input input-sm lib-search" type="search" data-testid="lib-search" node_ref=search_input
                placeholder=move || i18n.t("library.search")
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Escape" { query.set(String::new()) }
            />
            <span class="spacer"></span>
            <Show when=move || may_create.get()>
                <button class="btn btn-secondary btn-sm" data-testid="lib-new-folder"
                    on:click=move |_| creating.set(Some(folder_dialog::Target::Top))
                >{move || i18n.t("library.new_folder")}</button>
            </Show>
        </header>
        <Show when=move || creating.with(|c| c.is_some())>
            <folder_dialog::FolderDialog target=creating />
        </Show>
        <div class="lib-page" class:lib-has-selection=move || state.selected.with(|s| s.is_some()) || !query.with(|q| q.trim().is_empty())>
            <nav class="lib-tree" aria-label=move || i18n.t("library.folders") role="tree">
                // What waits for this person's approval, across folders.
                <Show when=move || state.lib.with(|l| l.files.iter().any(|f| f.waiting))>
                    <section class="lib-place lib-waiting" data-testid="lib-waiting">
                        <h3 class="lib-place-title">{move || i18n.t("library.waiting_for_you")}</h3>
                        <For each=move || state.lib.with(|l| l.files.iter().filter(|f| f.waiting).cloned().collect::<Vec<_>>())
                            key=|f| f.id.clone()
                            children=move |f: FileBrief| {
                                let folder = f.folder.clone();
                                let folder_name = state.folder(&f.folder).map(|x| x.name).unwrap_or_default();
                                view! {
                                    <button class="lib-folder" data-testid="lib-waiting-file" data-name=f.name.clone()
                                        on:click=move |_| state.select(Some(folder.clone()))
                                    >
                                        <span class="lib-folder-icon" aria-hidden="true">"⏳"</span>
                                        <span class="lib-folder-name">{f.name.clone()}</span>
                                        <span class="muted lib-folder-count">{folder_name}</span>
                                    </button>
                                }
                            }
                        />
                    </section>
                </Show>
                <For each=move || places.get() key=|(k, _, n)| (k.clone(), n.clone()) children=move |(_, place, name)| {
                    view! {
                        <section class="lib-place">
                            <h3 class="lib-place-title">{name}</h3>
                            <FolderTree state=state parent=None place=place depth=0 />
                        </section>
                    }
                } />
                <Show when=move || places.with(|p| p.is_empty())>
                    <div class="empty-state lib-empty" data-testid="lib-empty">
                        <h3>{move || i18n.t("library.empty_title")}</h3>
                        <p>{move || i18n.t(if may_create.get() { "library.empty_body_admin" } else { "library.empty_body" })}</p>
                    </div>
                </Show>
            </nav>
            <section class="lib-main">
                <Show when=move || !query.with(|q| q.trim().is_empty())>
                    <div class="lib-results" data-testid="lib-results">
                        <h3 class="lib-section-title">{move || i18n.tf("library.results", &[("n", results.with(|r| r.len()).to_string())])}</h3>
                        <ul class="lib-result-list">
                            <For each=move || results.get() key=|f| f.id.clone() children=move |f: FileBrief| {
                                let folder = f.folder.clone();
                                let folder_name = state.folder(&f.folder).map(|x| x.name).unwrap_or_default();
                                view! {
                                    <li>
                                        <button class="lib-result" data-testid="lib-result" data-name=f.name.clone()
                                            on:click=move |_| { state.select(Some(folder.clone())); query.set(String::new()); }
                                        >
                                            <span class="attachment-kind" aria-hidden="true">{crate::features::chat::attachments::kind(&f.name)}</span>
                                            <span class="lib-result-text">
                                                <strong>{f.name.clone()}</strong>
                                                <span class="muted">{format!("📁 {folder_name} · {} · {}", f.by_name, crate::features::helpdesk::short_time(f.updated_at))}</span>
                                            </span>
                                        </button>
                                    </li>
                                }
                            } />
                        </ul>
                        <Show when=move || results.with(|r| r.is_empty())>
                            <p class="muted">{move || i18n.t("library.no_results")}</p>
                        </Show>
                    </div>
                </Show>
                <Show when=move || query.with(|q| q.trim().is_empty())>
                    {move || match state.selected.get() {
                        Some(_) => view! { <files_table::FolderPanel creating=creating /> }.into_any(),
                        None => view! {
                            <div class="empty-state lib-empty">
                                <h3>{move || i18n.t("library.pick_title")}</h3>
                                <p>{move || i18n.t("library.pick_body")}</p>
                            </div>
                        }.into_any(),
                    }}
                </Show>
            </section>
        </div>
    }
}
