//! The selected folder: its header (place, approval, what the caller may do there), uploads on
//! their way, and its files as a table. Each row shows the version the caller sees first (for
//! the uploader and approvers that may be one still waiting), with download, preview, a new
//! version, delete, and approve/reject; its history opens below it.

use super::upload::{FolderUploads, send_files};
use super::{expect_library, folder_dialog::Target, place_label};
use crate::api;
use crate::features::chat::attachments::{kind, url};
use crate::features::chat::uploads::human_size;
use crate::features::helpdesk::short_time;
use crate::i18n::{I18n, expect_i18n};
use leptos::prelude::*;
use qiao_model::api::FileInfo;
use qiao_model::library::{FolderChange, LibraryFile, Review, Status, Version};

fn status_label(i18n: I18n, s: Status) -> String {
    i18n.t(&format!("library.status.{}", s.as_str()))
}

/// Whether the browser can show the file itself: raster images, and PDFs in its viewer.
pub fn previewable(mime: &str) -> bool {
    qiao_model::files::inline_image(mime) || mime.eq_ignore_ascii_case("application/pdf")
}

fn picked_files(ev: &leptos::ev::Event) -> Vec<web_sys::File> {
    let Some(input) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
    else {
        return Vec::new();
    };
    let files = input.files().map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default();
    input.set_value("");
    files
}

#[component]
pub fn FolderPanel(creating: RwSignal<Option<Target>>) -> impl IntoView {
    let i18n = expect_i18n();
    let state = expect_library();
    let preview = RwSignal::new(None::<FileInfo>);
    let folder = Memo::new(move |_| state.selected.get().and_then(|id| state.folder(&id)));
    let files = Memo::new(move |_| {
        let sel = state.selected.get();
        state.listing.with(|l| l.as_ref().filter(|l| Some(&l.folder.id) == sel.as_ref()).map(|l| l.files.clone()))
    });
    let folder_id = move || state.selected.get_untracked().unwrap_or_default();
    let toggle_approval = move |_| {
        let Some(f) = folder.get_untracked() else { return };
        let change = FolderChange { name: None, needs_approval: Some(!f.needs_approval) };
        leptos::task::spawn_local(async move {
            match api::patch::<_, qiao_model::library::Folder>(&format!("/api/library/folders/{}", f.id), &change).await
            {
                Ok(_) => state.refresh().await,
                Err(e) => state.error.set(Some(e.message())),
            }
        });
    };
    let rename_folder = move |_| {
        let Some(f) = folder.get_untracked() else { return };
        let Some(name) = web_sys::window()
            .and_then(|w| w.prompt_with_message_and_default(&i18n.t("library.rename_prompt"), &f.name).ok().flatten())
            .filter(|n| !n.trim().is_empty() && n.trim() != f.name)
        else {
            return;
        };
        let change = FolderChange { name: Some(name), needs_approval: None };
        leptos::task::spawn_local(async move {
            match api::patch::<_, qiao_model::library::Folder>(&format!("/api/library/folders/{}", f.id), &change).await
            {
                Ok(_) => state.refresh().await,
                Err(e) => state.error.set(Some(e.message())),
            }
        });
    };
    let delete_folder = move |_| {
        let Some(f) = folder.get_untracked() else { return };
        let ok = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message(&i18n.tf("library.delete_folder_confirm", &[("name", f.name.clone())])).ok()
            })
            .unwrap_or(false);
        if !ok {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::delete(&format!("/api/library/folders/{}", f.id)).await {
                Ok(()) => state.select(None),
                Err(e) => state.error.set(Some(e.message())),
            }
        });
    };

    // Files dropped on the folder go into it, as with the upload button.
    let dragging = RwSignal::new(false);
    let may_upload = move || folder.with(|f| f.as_ref().is_some_and(|f| f.may_upload));
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if !may_upload() {
            return;
        }
        let files: Vec<web_sys::File> = ev
            .data_transfer()
            .and_then(|d| d.files())
            .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
            .unwrap_or_default();
        if !files.is_empty() {
            send_files(folder_id(), None, files);
        }
    };
    view! {
        <div class="lib-folder-panel" class:lib-dragging=move || dragging.get() data-testid="lib-drop"
            on:dragover=move |ev: leptos::ev::DragEvent| {
                if may_upload() {
                    ev.prevent_default();
                    dragging.set(true);
                }
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
        {move || folder.get().map(|f| {
            let place = place_label(i18n, &f);
            view! {
                <div class="lib-folder-head" data-testid="lib-folder-head" data-name=f.name.clone()>
                    <button class="btn btn-ghost btn-sm lib-back" data-testid="lib-back" on:click=move |_| state.select(None)>{move || i18n.t("library.back")}</button>
                    <div class="lib-folder-title">
                        <h3>{f.name.clone()}</h3>
                        <span class="chip">{place}</span>
                        {f.needs_approval.then(|| view! { <span class="chip chip-label" data-testid="lib-needs-approval">{move || i18n.t("library.needs_approval")}</span> })}
                    </div>
                    <div class="lib-folder-actions">
                        {f.may_manage.then(|| view! {
                            <button class="btn btn-ghost btn-sm" data-testid="lib-new-subfolder"
                                on:click=move |_| creating.set(Some(Target::Under(folder_id())))>{move || i18n.t("library.new_subfolder")}</button>
                            <button class="btn btn-ghost btn-sm" data-testid="lib-rename-folder" on:click=rename_folder>{move || i18n.t("library.rename")}</button>
                            <button class="btn btn-ghost btn-sm" data-testid="lib-toggle-approval" on:click=toggle_approval>
                                {move || i18n.t(if folder.with(|f| f.as_ref().is_some_and(|f| f.needs_approval)) { "library.approval_off" } else { "library.approval_on" })}
                            </button>
                            <button class="btn btn-ghost btn-sm btn-danger-text" data-testid="lib-delete-folder" on:click=delete_folder>
                                {move || i18n.t("library.delete_folder")}
                            </button>
                        })}
                        {f.may_upload.then(|| view! {
                            <label class="btn btn-primary btn-sm">
                                {move || i18n.t("library.upload")}
                                <input type="file" multiple class="sr-only" data-testid="lib-upload-input"
                                    on:change=move |ev| send_files(folder_id(), None, picked_files(&ev)) />
                            </label>
                        })}
                    </div>
                </div>
            }
        })}
        <FolderUploads folder=Memo::new(move |_| state.selected.get()) />
        {move || state.error.get().map(|e| view! { <p class="form-error lib-error" role="alert" data-testid="lib-error">{e}</p> })}
        {move || match files.get() {
            None => view! { <p class="muted lib-loading">{move || i18n.t("library.loading")}</p> }.into_any(),
            Some(list) if list.is_empty() => view! {
                <div class="empty-state lib-empty" data-testid="lib-folder-empty">
                    <h3>{move || i18n.t("library.folder_empty_title")}</h3>
                    <p>{move || i18n.t(if folder.with(|f| f.as_ref().is_some_and(|f| f.may_upload)) { "library.folder_empty_body" } else { "library.folder_empty_read_only" })}</p>
                </div>
            }.into_any(),
            Some(list) => view! {
                <div class="table-wrap lib-table-wrap">
                    <table class="table lib-table" data-testid="lib-files">
                        <thead>
                            <tr>
                                <th>{move || i18n.t("library.col.name")}</th>
                                <th class="lib-col-meta">{move || i18n.t("library.col.version")}</th>
                                <th class="lib-col-meta">{move || i18n.t("library.col.size")}</th>
                                <th class="lib-col-meta">{move || i18n.t("library.col.updated")}</th>
                                <th class="cell-actions"></th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.into_iter().map(|f| view! { <FileRow file=f preview=preview /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any(),
        }}
        {move || preview.get().map(|f| view! { <Preview file=f open=preview /> })}
        </div>
    }
}

#[component]
fn FileRow(file: LibraryFile, preview: RwSignal<Option<FileInfo>>) -> impl IntoView {
    let i18n = expect_i18n();
    let state = expect_library();
    let history = RwSignal::new(false);
    let Some(top) = file.versions.first().cloned() else { return ().into_any() };
    let current = file.current().map(|v| v.n);
    let (entry, entry2, entry3) = (file.id.clone(), file.id.clone(), file.id.clone());
    let name = file.name.clone();
    let review = move |n: u32, approve: bool| {
        let entry = entry.clone();
        let note = if approve {
            String::new()
        } else {
            match web_sys::window().and_then(|w| w.prompt_with_message(&i18n.t("library.reject_note")).ok()) {
                Some(Some(n)) => n,
                _ => return,
            }
        };
        leptos::task::spawn_local(async move {
            let body = Review { approve, note };
            match api::post::<_, LibraryFile>(&format!("/api/library/files/{entry}/versions/{n}/review"), &body).await {
                Ok(_) => state.refresh().await,
                Err(e) => state.error.set(Some(e.message())),
            }
        });
    };
    let delete = move |_| {
        let ok = web_sys::window()
            .and_then(|w| w.confirm_with_message(&i18n.tf("library.delete_confirm", &[("name", name.clone())])).ok())
            .unwrap_or(false);
        if !ok {
            return;
        }
        let entry = entry2.clone();
        leptos::task::spawn_local(async move {
            match api::delete(&format!("/api/library/files/{entry}")).await {
                Ok(()) => state.refresh().await,
                Err(e) => state.error.set(Some(e.message())),
            }
        });
    };
    let may_upload = state.selected.get_untracked().and_then(|id| state.folder(&id)).is_some_and(|f| f.may_upload);
    let pending_top = (top.status == Status::Pending && file.may_review).then_some(top.n);
    let review2 = review.clone();
    let versions = file.versions.clone();
    let count = versions.len();
    view! {
        <tr class="lib-row" data-testid="lib-file" data-name=file.name.clone() data-version=top.n.to_string() data-status=top.status.as_str()>
            <td class="cell-wrap">
                <div class="lib-file-name">
                    <span class="attachment-kind" aria-hidden="true">{kind(&file.name)}</span>
                    <span>
                        <span class="cell-main">{file.name.clone()}</span>
                        {(top.status != Status::Approved).then(|| view! {
                            <span class=if top.status == Status::Pending { "chip chip-label" } else { "chip chip-overdue" } data-testid="lib-status">
                                {status_label(i18n, top.status)}
                            </span>
                        })}
                        <span class="cell-sub">{top.by_name.clone()}
                            // The columns a phone hides, said here instead.
                            <span class="lib-phone-meta">{format!(" · v{} · {}", top.n, human_size(top.file.size))}</span>
                        </span>
                        {(top.status == Status::Rejected && !top.note.is_empty()).then(|| view! { <span class="cell-sub lib-note">{format!("“{}”", top.note)}</span> })}
                    </span>
                </div>
            </td>
            <td class="lib-col-meta">
                <button class="btn btn-ghost btn-sm" data-testid="lib-history" aria-expanded=move || history.get().to_string()
                    title=move || i18n.t("library.history")
                    on:click=move |_| history.update(|h| *h = !*h)
                >{format!("v{}", top.n)} {(count > 1).then(|| format!(" · {count}"))}</button>
            </td>
            <td class="lib-col-meta cell-nowrap">{human_size(top.file.size)}</td>
            <td class="lib-col-meta cell-nowrap">{short_time(top.file.created_at)}</td>
            <td class="cell-actions">
                {pending_top.map(|n| {
                    let r1 = review2.clone();
                    let r2 = review2.clone();
                    view! {
                        <button class="btn btn-primary btn-sm" data-testid="lib-approve" on:click=move |_| r1(n, true)>{move || i18n.t("library.approve")}</button>
                        <button class="btn btn-secondary btn-sm" data-testid="lib-reject" on:click=move |_| r2(n, false)>{move || i18n.t("library.reject")}</button>
                    }
                })}
                {previewable(&top.file.mime).then(|| {
                    let f = top.file.clone();
                    view! { <button class="btn btn-ghost btn-sm" data-testid="lib-preview" on:click=move |_| preview.set(Some(f.clone()))>{move || i18n.t("library.preview")}</button> }
                })}
                <a class="btn btn-ghost btn-sm" data-testid="lib-download" href=url(&top.file.id) download=top.file.name.clone()>{move || i18n.t("files.download")}</a>
                {may_upload.then(|| view! {
                    <label class="btn btn-ghost btn-sm" title=move || i18n.t("library.new_version_hint")>
                        {move || i18n.t("library.new_version")}
                        <input type="file" class="sr-only" data-testid="lib-version-input"
                            on:change=move |ev| send_files(state.selected.get_untracked().unwrap_or_default(), Some(entry3.clone()), picked_files(&ev)) />
                    </label>
                })}
                {file.may_delete.then(|| view! {
                    <button class="btn btn-ghost btn-sm btn-danger-text" data-testid="lib-delete" on:click=delete.clone()>{move || i18n.t("library.delete")}</button>
                })}
            </td>
        </tr>
        <Show when=move || history.get()>
            <tr class="lib-history-row">
                <td colspan="5">
                    <ol class="lib-versions" data-testid="lib-versions">
                        {versions.clone().into_iter().map(|v| {
                            let r = review.clone();
                            let entry = file.id.clone();
                            view! { <VersionItem v=v current=current may_review=file.may_review may_restore=may_upload entry=entry review=r preview=preview /> }
                        }).collect_view()}
                    </ol>
                </td>
            </tr>
        </Show>
    }
    .into_any()
}

#[component]
fn VersionItem(
    v: Version,
    current: Option<u32>,
    may_review: bool,
    /// May make it the newest version again.
    may_restore: bool,
    entry: String,
    review: impl Fn(u32, bool) + Clone + Send + Sync + 'static,
    preview: RwSignal<Option<FileInfo>>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let state = expect_library();
    let n = v.n;
    let r2 = review.clone();
    let f = v.file.clone();
    let restorable = may_restore && v.status == Status::Approved && current != Some(n);
    let restore = move |_| {
        let entry = entry.clone();
        leptos::task::spawn_local(async move {
            match api::post::<_, LibraryFile>(&format!("/api/library/files/{entry}/versions/{n}/restore"), &()).await {
                Ok(_) => state.refresh().await,
                Err(e) => state.error.set(Some(e.message())),
            }
        });
    };
    view! {
        <li class="lib-version" data-testid="lib-version" data-n=n.to_string() data-status=v.status.as_str()>
            <span class="lib-version-n">{format!("v{n}")}</span>
            {(current == Some(n)).then(|| view! { <span class="chip chip-label">{move || i18n.t("library.current")}</span> })}
            {(v.status != Status::Approved).then(|| view! { <span class="chip">{status_label(i18n, v.status)}</span> })}
            <span class="muted">{format!("{} · {} · {}", v.by_name, short_time(v.file.created_at), human_size(v.file.size))}</span>
            {v.reviewed_by_name.clone().map(|r| view! { <span class="muted">{i18n.tf("library.reviewed_by", &[("name", r)])}</span> })}
            {(!v.note.is_empty()).then(|| view! { <span class="lib-note">{format!("“{}”", v.note)}</span> })}
            <span class="spacer"></span>
            {(may_review && v.status == Status::Pending).then(|| view! {
                <button class="btn btn-primary btn-sm" on:click=move |_| review(n, true)>{move || i18n.t("library.approve")}</button>
                <button class="btn btn-secondary btn-sm" on:click=move |_| r2(n, false)>{move || i18n.t("library.reject")}</button>
            })}
            {restorable.then(|| view! {
                <button class="btn btn-ghost btn-sm" data-testid="lib-version-restore" title=move || i18n.t("library.restore_hint")
                    on:click=restore.clone()>{move || i18n.t("library.restore")}</button>
            })}
            {previewable(&v.file.mime).then(|| view! {
                <button class="btn btn-ghost btn-sm" on:click=move |_| preview.set(Some(f.clone()))>{move || i18n.t("library.preview")}</button>
            })}
            <a class="btn btn-ghost btn-sm" data-testid="lib-version-download" href=url(&v.file.id) download=v.file.name.clone()>{move || i18n.t("files.download")}</a>
        </li>
    }
}

/// A file shown in place: an image, or a PDF in the browser's viewer.
#[component]
fn Preview(file: FileInfo, open: RwSignal<Option<FileInfo>>) -> impl IntoView {
    let i18n = expect_i18n();
    let image = qiao_model::files::inline_image(&file.mime);
    let src = if image { url(&file.id) } else { format!("{}?preview=1", url(&file.id)) };
    // Focused when shown, so Escape closes it at once.
    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let _ = el.focus();
        }
    });
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(None)>
            <div class="modal lib-preview" role="dialog" aria-modal="true" aria-label=file.name.clone() data-testid="lib-preview-dialog" tabindex="-1"
                node_ref=dialog
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(None) }
            >
                <div class="lib-preview-head">
                    <h3 class="modal-title">{file.name.clone()}</h3>
                    <span class="spacer"></span>
                    <a class="btn btn-ghost btn-sm" href=url(&file.id) download=file.name.clone()>{move || i18n.t("files.download")}</a>
                    <button class="icon-btn" aria-label=move || i18n.t("library.close") data-testid="lib-preview-close" on:click=move |_| open.set(None)>"×"</button>
                </div>
                {if image {
                    view! { <img class="lib-preview-image" src=src alt=file.name.clone() data-testid="lib-preview-image" /> }.into_any()
                } else {
                    view! { <iframe class="lib-preview-pdf" src=src title=file.name.clone() data-testid="lib-preview-pdf"></iframe> }.into_any()
                }}
            </div>
        </div>
    }
}
