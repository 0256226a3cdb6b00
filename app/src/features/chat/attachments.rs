//! Files in messages: images as previews (the thumbnail, sized before it loads; a click opens the
//! full image), anything else as a card with its name, size and a download link. Every request
//! goes to `/api/files/{id}`, where the relay repeats the access check and serves anything but a
//! raster image as a download, so an uploaded HTML or SVG file never runs in the app.

use super::uploads::{Status, expect_uploads, human_size};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::files::inline_image;
use qiao_model::ids::ChannelId;
use qiao_model::schema::chat::Attachment;

pub(crate) fn url(id: &str) -> String {
    format!("/api/files/{id}")
}

/// A kind label for the file card's icon: the extension, as Lark and DingTalk show it.
pub(crate) fn kind(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.chars().take(4).collect::<String>().to_uppercase())
        .unwrap_or_else(|| "FILE".into())
}

#[component]
pub fn Attachments(files: Vec<Attachment>) -> impl IntoView {
    files
        .into_iter()
        .map(|f| {
            if inline_image(&f.mime) {
                // Shown at most 360 × 240, keeping its proportions.
                let (w, h) = match (f.width, f.height) {
                    (Some(w), Some(h)) if w > 0 && h > 0 => {
                        let scale = (360.0 / w as f64).min(240.0 / h as f64).min(1.0);
                        ((w as f64 * scale).round() as u32, (h as f64 * scale).round() as u32)
                    }
                    _ => (240, 160),
                };
                let src = url(f.thumb.as_deref().unwrap_or(&f.id));
                view! {
                    <a class="attachment-image" href=url(&f.id) target="_blank" rel="noopener" data-testid="attachment-image">
                        <img src=src alt=f.name.clone() width=w height=h loading="lazy" />
                    </a>
                }
                .into_any()
            } else {
                view! { <FileCard id=f.id.clone() name=f.name.clone() size=f.size /> }.into_any()
            }
        })
        .collect::<Vec<_>>()
}

/// A file as a card: a kind label from its extension, its name and size, a download link, and
/// after it whatever `children` add (a task's remove button). `testid` names the card and its link
/// (`<testid>` and `<testid>-download`) for the browser tests of each place it appears.
#[component]
pub fn FileCard(
    id: String,
    name: String,
    size: u64,
    #[prop(default = "attachment-file")] testid: &'static str,
    #[prop(default = "attachment-download")] download_testid: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let i18n = expect_i18n();
    view! {
        <div class="attachment-file" data-testid=testid data-file-id=id.clone()>
            <span class="attachment-kind" aria-hidden="true">{kind(&name)}</span>
            <span class="attachment-meta">
                <span class="attachment-name" title=name.clone()>{name.clone()}</span>
                <span class="muted attachment-size">{human_size(size)}</span>
            </span>
            <a class="btn btn-ghost btn-sm" href=url(&id) download=name.clone() data-testid=download_testid>
                {move || i18n.t("files.download")}
            </a>
            {children.map(|c| c())}
        </div>
    }
}

/// One file on its way: its name, a progress bar, and `label` (how far it got, or that it waits
/// or was refused; by default bytes sent of its size), then whatever `children` add. Used
/// wherever files are sent: chat, task and ticket attachments, the file library, page images.
#[component]
pub fn ProgressRow(
    name: String,
    sent: u64,
    size: u64,
    #[prop(default = None)] label: Option<String>,
    #[prop(default = "upload-row")] testid: &'static str,
    #[prop(default = "sending")] state: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let pct = if size == 0 { 100.0 } else { sent as f64 * 100.0 / size as f64 };
    let label = label.unwrap_or_else(|| format!("{} / {}", human_size(sent), human_size(size)));
    view! {
        <div class="upload-row" data-testid=testid data-state=state data-name=name.clone()>
            <span class="upload-name">{name.clone()}</span>
            <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{pct:.0}")>
                <div class="progress-bar" style=format!("width: {pct:.1}%")></div>
            </div>
            <span class="muted upload-state">{label}</span>
            {children.map(|c| c())}
        </div>
    }
}

/// The files on their way into `channel`, with progress.
#[component]
pub fn UploadRows(channel: ChannelId) -> impl IntoView {
    let i18n = expect_i18n();
    let uploads = expect_uploads();
    let channel = StoredValue::new(channel);
    let mine = Memo::new(move |_| {
        uploads.items.with(|v| {
            v.iter()
                .filter(|i| i.target == super::uploads::Target::Channel(channel.get_value()))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || mine.with(|m| !m.is_empty())>
            <div class="upload-rows" data-testid="upload-rows">
                <For
                    each=move || mine.get()
                    key=|i| (i.key.clone(), i.sent, format!("{:?}", i.status))
                    children=move |i| {
                        let key = i.key.clone();
                        let (state, label) = match &i.status {
                            Status::Waiting => ("waiting", i18n.t("files.waiting")),
                            Status::Sending => ("sending", format!("{} / {}", human_size(i.sent), human_size(i.size))),
                            Status::Refused(why) => ("refused", i18n.tf("files.refused", &[("why", why.clone())])),
                        };
                        let refused = matches!(i.status, Status::Refused(_));
                        view! {
                            <ProgressRow name=i.name.clone() sent=i.sent size=i.size label=Some(label) state=state>
                                {refused.then(|| view! {
                                    <button
                                        class="icon-btn"
                                        title=i18n.t("files.dismiss")
                                        aria-label=i18n.t("files.dismiss")
                                        on:click=move |_| uploads.dismiss(&key)
                                    >"✕"</button>
                                })}
                            </ProgressRow>
                        }
                    }
                />
            </div>
        </Show>
    }
}
