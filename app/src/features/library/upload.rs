//! Files on their way into a library folder. They go through the app's file outbox, the same as
//! files sent in chat ([`crate::features::chat::uploads`]): the file is kept in IndexedDB first,
//! so choosing one offline, a reload, a closed tab or a dropped connection loses nothing; it is
//! sent in chunks from where the relay stopped, and once the relay holds it whole it is added to
//! the folder (a new file, or a new version of the one chosen). Only a refusal stops it, with the
//! relay's reason, until the person dismisses it.

use crate::features::chat::attachments::ProgressRow;
use crate::features::chat::uploads::{Status, Target, expect_uploads};
use crate::i18n::expect_i18n;
use leptos::prelude::*;

/// Queue `files` for `folder` (as new versions of `entry` when given).
pub fn send_files(folder: String, entry: Option<String>, files: Vec<web_sys::File>) {
    let uploads = expect_uploads();
    for f in files {
        uploads.enqueue_to(Target::Folder { folder: folder.clone(), entry: entry.clone() }, f);
    }
}

/// The files on their way into `folder`, with progress.
#[component]
pub fn FolderUploads(folder: Memo<Option<String>>) -> impl IntoView {
    let i18n = expect_i18n();
    let uploads = expect_uploads();
    let mine = Memo::new(move |_| {
        let f = folder.get();
        uploads.items.with(|v| {
            v.iter()
                .filter(|i| matches!(&i.target, Target::Folder { folder, .. } if Some(folder) == f.as_ref()))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <For each=move || mine.get() key=|i| (i.key.clone(), i.sent, format!("{:?}", i.status)) children=move |i| {
            let key = i.key.clone();
            let (state, label) = match &i.status {
                Status::Waiting => ("waiting", Some(i18n.t("library.waiting_network"))),
                Status::Sending => ("sending", None),
                Status::Refused(why) => ("refused", Some(i18n.tf("files.refused", &[("why", why.clone())]))),
            };
            let refused = matches!(i.status, Status::Refused(_));
            view! {
                <ProgressRow name=i.name.clone() sent=i.sent size=i.size label=label state=state testid="lib-sending">
                    {refused.then(|| view! {
                        <button class="icon-btn" title=i18n.t("files.dismiss") aria-label=i18n.t("files.dismiss")
                            on:click=move |_| uploads.dismiss(&key)>"✕"</button>
                    })}
                </ProgressRow>
            }
        } />
    }
}
