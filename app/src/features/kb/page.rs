//! The knowledge-base page: spaces and the page tree on the left, the open page in the middle
//! (title, formatting toolbar, editor), comments and versions on the right.

use super::editor;
use super::side::SidePanel;
use super::{Kb, expect_kb, templates};
use crate::features::tasks::{new_id, now_ms};
use crate::i18n::expect_i18n;
use leptos::html::Div;
use leptos::prelude::*;
use qiao_model::schema::kb::{self, Block, BlockKind, PageMeta};
use wasm_bindgen::JsCast;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    None,
    Comments,
    Versions,
}

#[component]
pub fn KbPage(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let kb = expect_kb();
    leptos::task::spawn_local(kb.refresh());
    let space = Memo::new(move |_| kb.current_space());
    let side = RwSignal::new(Side::None);
    let new_open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let tree =
        Memo::new(move |_| space.get().and_then(|s| kb.tree(&s.id, |d| kb::tree(&kb::pages(d)))).unwrap_or_default());
    let page_meta = Memo::new(move |_| {
        let id = kb.page.get()?;
        tree.with(|t| t.iter().find(|(_, p)| p.id == id).map(|(_, p)| p.clone()))
    });

    view! {
        <header class="chat-header kb-header">
            <button class="sidebar-toggle icon-btn" aria-label=move || i18n.t("sidebar.open_menu") data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title" data-testid="kb-title">{move || space.get().map(|s| s.name).unwrap_or_else(|| i18n.t("kb.title"))}</h2>
            <span class="chat-subtitle">{move || space.get().map(|s| i18n.t(if s.editable { "kb.can_edit" } else { "kb.read_only" }))}</span>
            <span class="spacer"></span>
            <Show when=move || page_meta.with(|p| p.is_some())>
                <div class="segmented" role="tablist">
                    <button role="tab" class="segmented-item" data-testid="kb-open-comments"
                        aria-selected=move || (side.get() == Side::Comments).to_string()
                        on:click=move |_| side.update(|s| *s = if *s == Side::Comments { Side::None } else { Side::Comments })
                    >{move || i18n.t("kb.comments")}</button>
                    <button role="tab" class="segmented-item" data-testid="kb-open-versions"
                        aria-selected=move || (side.get() == Side::Versions).to_string()
                        on:click=move |_| side.update(|s| *s = if *s == Side::Versions { Side::None } else { Side::Versions })
                    >{move || i18n.t("kb.versions")}</button>
                </div>
            </Show>
        </header>
        <div class="kb-layout">
            <nav class="kb-rail" data-testid="kb-rail">
                <select class="select select-sm kb-space-select" data-testid="kb-space"
                    on:change=move |ev| kb.select_space(event_target_value(&ev))
                >
                    {move || kb.spaces.get().into_iter().map(|s| {
                        let sel = kb.space.get_untracked().as_deref() == Some(s.id.as_str());
                        view! { <option value=s.id.clone() selected=sel>{s.name.clone()}</option> }
                    }).collect_view()}
                </select>
                <super::search::KbSearch query=query />
                <Show when=move || space.with(|s| s.as_ref().is_some_and(|s| s.editable))>
                    <button class="btn btn-ghost btn-sm kb-new" data-testid="kb-new-page" on:click=move |_| new_open.set(true)>
                        "+ " {move || i18n.t("kb.new_page")}
                    </button>
                </Show>
                <ul class="kb-tree" style:display=move || if query.with(|q| q.trim().is_empty()) { "" } else { "none" }>
                    <For each=move || tree.get() key=|(d, p)| (*d, p.id.clone(), p.title.clone()) children=move |(depth, p)| {
                        let id = p.id.clone();
                        let id2 = p.id.clone();
                        view! {
                            <li>
                                <button class="kb-tree-item" data-testid="kb-page-item" data-title=p.title.clone()
                                    style=format!("padding-left: calc(var(--space-2) + {depth} * var(--space-4))")
                                    aria-current=move || if kb.page.get().as_deref() == Some(id.as_str()) { "page" } else { "false" }
                                    on:click=move |_| kb.select_page(Some(id2.clone()))
                                >
                                    <span class="kb-tree-icon" aria-hidden="true">"📄"</span>
                                    <span class="rail-name">{p.title.clone()}</span>
                                </button>
                            </li>
                        }
                    } />
                </ul>
                <Show when=move || tree.with(|t| t.is_empty())>
                    <p class="rail-empty muted">{move || i18n.t("kb.no_pages")}</p>
                </Show>
            </nav>
            <section class="kb-main">
                {move || match (space.get(), page_meta.get()) {
                    (Some(s), Some(p)) => view! { <PageView space=s.id.clone() editable=s.editable meta=p /> }.into_any(),
                    (Some(s), None) => view! {
                        <div class="empty-state" data-testid="kb-empty">
                            <h3>{i18n.t("kb.empty_title")}</h3>
                            <p>{i18n.t(if s.editable { "kb.empty_body_editor" } else { "kb.empty_body_reader" })}</p>
                            {s.editable.then(|| view! { <button class="btn btn-primary" on:click=move |_| new_open.set(true)>{i18n.t("kb.new_page")}</button> })}
                        </div>
                    }.into_any(),
                    (None, _) => view! { <div class="empty-state"><h3>{i18n.t("kb.no_spaces")}</h3></div> }.into_any(),
                }}
            </section>
            {move || match (side.get(), space.get(), kb.page.get()) {
                (Side::None, ..) | (_, None, _) | (_, _, None) => None,
                (which, Some(s), Some(p)) => Some(view! { <SidePanel space=s.id.clone() page=p editable=s.editable which=which close=side /> }),
            }}
        </div>
        <Show when=move || new_open.get()>
            <NewPageDialog open=new_open kb=kb />
        </Show>
    }
}

/// "新建页面": a title, a template, where it goes (top level or under the open page).
#[component]
fn NewPageDialog(open: RwSignal<bool>, kb: Kb) -> impl IntoView {
    let i18n = expect_i18n();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let title = RwSignal::new(String::new());
    let template = RwSignal::new("blank".to_string());
    let under_current = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(space) = kb.space.get_untracked() else { return };
        let parent =
            if under_current.get_untracked() { kb.page.get_untracked().unwrap_or_default() } else { String::new() };
        let last = kb
            .tree(&space, |d| {
                kb::pages(d).into_iter().filter(|p| p.parent == parent).map(|p| p.order).fold(0.0_f64, f64::max)
            })
            .unwrap_or(0.0);
        let meta = PageMeta {
            id: new_id("pg"),
            title: title.get_untracked(),
            parent,
            order: last + 1.0,
            created_by: me,
            created_at: now_ms(),
            deleted: false,
        };
        let blocks = templates::blocks(i18n, &template.get_untracked());
        let id = meta.id.clone();
        match kb.change_tree(&space, move |d| kb::create_page(d, &meta, now_ms())) {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                error.set(Some(e.to_string()));
                return;
            }
            None => return,
        }
        // The page's text: its document, then the template's blocks.
        let repo = kb.repo().get_value();
        let (s2, p2) = (space.clone(), id.clone());
        leptos::task::spawn_local(async move {
            repo.open(kb::page_doc_id(&s2, &p2), move || kb::page_genesis(&s2, &p2)).await;
            repo.change(kb::page_doc_id(&space, &id), |d| kb::write_blocks(d, &blocks, now_ms()));
            kb.select_page(Some(id));
        });
        open.set(false);
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <form class="modal" role="dialog" aria-modal="true" data-testid="kb-new-dialog"
                on:click=|ev| ev.stop_propagation()
                on:submit=submit
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                <h3 class="modal-title">{move || i18n.t("kb.new_page")}</h3>
                <div class="modal-body">
                    <label class="field">
                        <span class="field-label">{move || i18n.t("kb.page_title")}</span>
                        <input class="input" maxlength="120" autofocus data-testid="kb-new-title"
                            prop:value=move || title.get()
                            on:input=move |ev| title.set(event_target_value(&ev))
                        />
                    </label>
                    <div class="field">
                        <span class="field-label">{move || i18n.t("kb.template")}</span>
                        <div class="kb-templates">
                            {templates::TEMPLATES.iter().map(|k| {
                                let k = k.to_string();
                                let k2 = k.clone();
                                let k3 = k.clone();
                                view! {
                                    <label class="kb-template" class:active=move || template.get() == k>
                                        <input type="radio" name="template" data-testid=format!("kb-template-{k2}")
                                            prop:checked=move || template.get() == k3
                                            on:change={let k = k2.clone(); move |_| template.set(k.clone())}
                                        />
                                        <span>{i18n.t(&format!("kb.tpl.{k2}.name"))}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    </div>
                    <Show when=move || kb.page.with(|p| p.is_some())>
                        <label class="checkbox">
                            <input type="checkbox" data-testid="kb-new-under" prop:checked=move || under_current.get()
                                on:change=move |ev| under_current.set(event_target_checked(&ev)) />
                            <span>{move || i18n.t("kb.under_current")}</span>
                        </label>
                    </Show>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>{move || i18n.t("channel.cancel")}</button>
                    <button type="submit" class="btn btn-primary" data-testid="kb-create" disabled=move || title.with(|t| t.trim().is_empty())>
                        {move || i18n.t("kb.create")}
                    </button>
                </div>
            </form>
        </div>
    }
}

const KINDS: [(&str, &str); 8] = [
    ("p", "kb.kind.p"),
    ("h1", "kb.kind.h1"),
    ("h2", "kb.kind.h2"),
    ("h3", "kb.kind.h3"),
    ("bullet", "kb.kind.bullet"),
    ("numbered", "kb.kind.numbered"),
    ("quote", "kb.kind.quote"),
    ("code", "kb.kind.code"),
];

/// One page: its title, the toolbar and the editor, bound to the page's document.
/// Upload an image or file into the page (readers of the page may download it, the relay
/// checks); its file id, name and type. `Err(None)`: no network (the person is told to try again
/// online).
async fn upload_into_page(
    doc: qiao_model::ids::DocumentId,
    file: web_sys::File,
    sending: RwSignal<Option<(String, u64, u64)>>,
) -> Result<(String, String, String), Option<String>> {
    use crate::features::chat::uploads::{send_rest, start_upload};
    let (name, mime, size) = (file.name(), file.type_(), file.size() as u64);
    sending.set(Some((name.clone(), 0, size)));
    let state =
        start_upload(qiao_model::api::FileScope::Page(doc), &file, &name, &mime).await.map_err(|s| s.message())?;
    let stored =
        send_rest(&file, state, |sent| sending.set(Some((name.clone(), sent, size)))).await.map_err(|s| s.message())?;
    Ok((stored.id, stored.name, stored.mime))
}

#[component]
fn PageView(space: String, editable: bool, meta: PageMeta) -> impl IntoView {
    let i18n = expect_i18n();
    let kb = expect_kb();
    let repo = kb.repo();
    let doc_id = kb::page_doc_id(&space, &meta.id);
    let ready = RwSignal::new(false);
    {
        let (s, p) = (space.clone(), meta.id.clone());
        let r = repo.get_value();
        leptos::task::spawn_local(async move {
            r.open(doc_id, move || kb::page_genesis(&s, &p)).await;
            ready.set(true);
        });
    }
    let root: NodeRef<Div> = NodeRef::new();
    // What the editor element shows, as blocks: the last render or the last input read back.
    let shown: StoredValue<Option<Vec<Block>>> = StoredValue::new(None);
    // The document's version whose body `shown` is (`None` while a change is not rendered yet):
    // a keystroke then writes only the difference from `shown` (`kb::write_edit`), and the
    // render check below skips reading back what the editor itself just wrote.
    let shown_at: StoredValue<Option<u64>> = StoredValue::new(None);
    let composing = StoredValue::new(false);
    let current_kind = RwSignal::new("p".to_string());
    // An image on its way into the page: where it goes (the block the caret was in when the
    // button was pressed), its name and progress, or why it could not be sent.
    let embed_at: StoredValue<Option<u32>> = StoredValue::new(None);
    let embed_sending = RwSignal::new(None::<(String, u64, u64)>);
    let embed_error = RwSignal::new(None::<String>);

    // The document changed (here or elsewhere): render it unless the editor already shows it.
    Effect::new(move |_| {
        if !ready.get() {
            return;
        }
        let Some(version) = repo.with_value(|r| r.version(doc_id)) else { return };
        let Some(el) = root.get() else { return };
        if composing.get_value() || shown_at.get_value() == Some(version) {
            return;
        }
        let Some(blocks) = repo.with_value(|r| r.read_untracked(doc_id, kb::blocks)) else { return };
        if shown.with_value(|s| s.as_ref() != Some(&blocks)) {
            editor::render(&el, &blocks);
            shown.set_value(Some(blocks));
        }
        shown_at.set_value(Some(version));
    });

    let read_back = move || {
        let Some(el) = root.get_untracked() else { return };
        if composing.get_value() || !editable {
            return;
        }
        let parsed = editor::parse(&el);
        let r = repo.get_value();
        let in_sync = shown_at.get_value().is_some() && shown_at.get_value() == r.version_untracked(doc_id);
        if shown.with_value(|s| s.as_ref() == Some(&parsed)) {
            if !in_sync && let Some(blocks) = r.read_untracked(doc_id, kb::blocks) {
                // A change arrived during a composition that changed nothing: show it now.
                editor::render(&el, &blocks);
                shown.set_value(Some(blocks));
                shown_at.set_value(r.version_untracked(doc_id));
            }
            return;
        }
        let mut before = None;
        shown.update_value(|s| before = s.take());
        r.change(doc_id, |d| match before {
            Some(before) if in_sync => kb::write_edit(d, &before, &parsed, now_ms()),
            Some(before) => {
                // The document changed since the editor last showed it (a colleague's edit during
                // a composition): move this edit onto it, then render the result.
                let current = kb::blocks(d);
                kb::write_edit(d, &current, &kb::rebase(&before, &parsed, &current), now_ms())
            }
            // Nothing was shown yet: the editor's content is the page.
            None => kb::write_blocks(d, &parsed, now_ms()),
        });
        shown.set_value(Some(parsed));
        shown_at.set_value(if in_sync { r.version_untracked(doc_id) } else { None });
    };
    let sync_kind = move || {
        if let Some(el) = root.get_untracked()
            && let Some(k) = editor::current_kind(&el)
        {
            let key = match k {
                BlockKind::Paragraph => "p",
                BlockKind::Heading(1) => "h1",
                BlockKind::Heading(2) => "h2",
                BlockKind::Heading(_) => "h3",
                BlockKind::Bullet => "bullet",
                BlockKind::Numbered => "numbered",
                BlockKind::Code => "code",
                BlockKind::Quote => "quote",
                BlockKind::Cell(_) => "td",
                BlockKind::Image { .. } | BlockKind::File { .. } => "p",
            };
            current_kind.set(key.to_string());
        }
    };

    let title_space = space.clone();
    let page_id = meta.id.clone();
    // Upload a file into the page, then put it (an image, or a file card) after block `after`.
    let embed_file = move |file: web_sys::File, after: Option<u32>| {
        embed_error.set(None);
        leptos::task::spawn_local(async move {
            match upload_into_page(doc_id, file, embed_sending).await {
                Ok((id, name, mime)) => {
                    let kind = if qiao_model::files::inline_image(&mime) {
                        BlockKind::Image { file: id, name }
                    } else {
                        BlockKind::File { file: id, name }
                    };
                    if let Some(el) = root.get_untracked()
                        && editor::insert_embed(&el, after, &kind)
                    {
                        read_back();
                    }
                }
                Err(why) => embed_error.set(Some(why.unwrap_or_else(|| i18n.t("kb.image_offline")))),
            }
            embed_sending.set(None);
        });
    };
    // Files pasted or dropped into the editor go in where the caret is (a screenshot pasted with
    // Ctrl+V, as in any editor); text pastes as before.
    let take_files = move |files: Option<web_sys::FileList>| -> bool {
        let files: Vec<web_sys::File> =
            files.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default();
        if files.is_empty() || !editable {
            return false;
        }
        let after = root.get_untracked().and_then(|el| editor::caret_block(&el));
        for f in files {
            embed_file(f, after);
        }
        true
    };
    // 🖼 and 📎: upload into the page, then put the image or file where the caret was when the
    // button was pressed.
    let embed_button = move |testid: &'static str, label: &'static str, icon: &'static str, accept: &'static str| {
        view! {
            <label class="icon-btn kb-tool" data-testid=testid title=move || i18n.t(label) aria-label=move || i18n.t(label)
                on:mousedown=move |_| embed_at.set_value(root.get_untracked().and_then(|el| editor::caret_block(&el)))
            >
                {icon}
                <input type="file" class="sr-only" accept=accept data-testid=format!("{testid}-input")
                    on:change=move |ev| {
                        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
                        let Some(file) = input.files().and_then(|l| l.get(0)) else { return };
                        input.set_value("");
                        embed_file(file, embed_at.get_value());
                    }
                />
            </label>
        }
    };
    let focus_editor = move || {
        if let Some(el) = root.get_untracked() {
            let _ = el.focus();
        }
    };
    view! {
        <article class="kb-page" data-testid="kb-page">
            <input class="kb-page-title" data-testid="kb-page-title" maxlength="120" disabled=!editable
                prop:value=meta.title.clone()
                on:change=move |ev| {
                    let t = event_target_value(&ev);
                    let id = page_id.clone();
                    kb.change_tree(&title_space, move |d| kb::rename_page(d, &id, &t, now_ms()));
                }
            />
            {editable.then(|| view! {
                <div class="kb-toolbar" role="toolbar" data-testid="kb-toolbar">
                    <select class="select select-sm" data-testid="kb-block-kind"
                        prop:value=move || current_kind.get()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let (Some(el), Some(k)) = (root.get_untracked(), editor::kind_from_attr(&v)) {
                                focus_editor();
                                if editor::set_block_kind(&el, &k) {
                                    read_back();
                                }
                            }
                        }
                    >
                        {KINDS.iter().map(|(k, label)| view! { <option value=*k>{i18n.t(label)}</option> }).collect_view()}
                        <option value="td" disabled>{i18n.t("kb.kind_cell")}</option>
                    </select>
                    <button class="icon-btn kb-tool" data-testid="kb-bold" title=move || i18n.t("kb.bold")
                        on:mousedown=|ev| ev.prevent_default()
                        on:click=move |_| { editor::exec("bold", None); read_back(); }
                    ><strong>"B"</strong></button>
                    <button class="icon-btn kb-tool" data-testid="kb-italic" title=move || i18n.t("kb.italic")
                        on:mousedown=|ev| ev.prevent_default()
                        on:click=move |_| { editor::exec("italic", None); read_back(); }
                    ><em>"I"</em></button>
                    <button class="icon-btn kb-tool" data-testid="kb-link" title=move || i18n.t("kb.link")
                        on:mousedown=|ev| ev.prevent_default()
                        on:click=move |_| {
                            let url = web_sys::window().and_then(|w| w.prompt_with_message(&i18n.t("kb.link_prompt")).ok().flatten());
                            if let Some(u) = url.filter(|u| qiao_model::markdown::safe_url(u)) {
                                editor::exec("createLink", Some(&u));
                                read_back();
                            }
                        }
                    >"🔗"</button>
                    <button class="icon-btn kb-tool" data-testid="kb-table" title=move || i18n.t("kb.table")
                        aria-label=move || i18n.t("kb.table")
                        on:mousedown=|ev| ev.prevent_default()
                        on:click=move |_| {
                            if let Some(el) = root.get_untracked() {
                                focus_editor();
                                if editor::insert_table(&el, 2, 3) {
                                    read_back();
                                }
                            }
                        }
                    >"⊞"</button>
                    {embed_button("kb-image", "kb.image", "🖼", "image/png,image/jpeg,image/gif,image/webp")}
                    {embed_button("kb-file", "kb.attach", "📎", "")}
                    <span class="kb-toolbar-hint muted">{move || i18n.t("kb.toolbar_hint")}</span>
                </div>
            })}
            <div
                class="kb-editor"
                node_ref=root
                data-testid="kb-editor"
                contenteditable=if editable { "true" } else { "false" }
                spellcheck="false"
                on:compositionstart=move |_| composing.set_value(true)
                on:compositionend=move |_| {
                    composing.set_value(false);
                    read_back();
                }
                on:input=move |ev: web_sys::Event| {
                    let composing_now = ev.dyn_ref::<web_sys::InputEvent>().is_some_and(|i| i.is_composing());
                    if !composing_now {
                        read_back();
                    }
                }
                on:paste=move |ev: web_sys::ClipboardEvent| {
                    if take_files(ev.clipboard_data().and_then(|d| d.files())) {
                        ev.prevent_default();
                    }
                }
                on:drop=move |ev: web_sys::DragEvent| {
                    if take_files(ev.data_transfer().and_then(|d| d.files())) {
                        ev.prevent_default();
                    }
                }
                on:keyup=move |_| sync_kind()
                on:mouseup=move |_| sync_kind()
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    // In a table cell, keys that would split or join cells move between them.
                    if matches!(ev.key().as_str(), "Enter" | "Tab" | "Backspace" | "Delete")
                        && !ev.is_composing()
                        && let Some(el) = root.get_untracked()
                        && editor::cell_key(&el, &ev.key(), ev.shift_key())
                    {
                        ev.prevent_default();
                        read_back();
                        return;
                    }
                    // Enter on an empty list item ends the list, as in every editor.
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing()
                        && let Some(el) = root.get_untracked()
                        && matches!(editor::current_kind(&el), Some(BlockKind::Bullet | BlockKind::Numbered))
                        && editor::caret(&el).is_some_and(|(i, _)| el.children().item(i).is_some_and(|b| b.text_content().unwrap_or_default().is_empty()))
                    {
                        ev.prevent_default();
                        editor::set_block_kind(&el, &BlockKind::Paragraph);
                        read_back();
                        sync_kind();
                    }
                }
            ></div>
            {move || embed_sending.get().map(|(name, sent, size)| view! {
                <div class="kb-image-sending">
                    <crate::features::chat::attachments::ProgressRow name=name sent=sent size=size testid="kb-image-sending" />
                </div>
            })}
            {move || embed_error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="kb-image-error">{e}</p> })}
            <Show when=move || !ready.get()>
                <div class="progress progress-indeterminate"><div class="progress-bar"></div></div>
            </Show>
        </article>
    }
}
