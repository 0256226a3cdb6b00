//! Putting a file into a library folder: the chat's resumable upload (SHA-256 announced, chunks
//! acknowledged once on the relay's disk) into the folder's scope, then adding the stored file to
//! the folder as a new file or the next version of one.
//!
//! A dropped connection does not lose the upload: each step waits for the network and carries on
//! from the offset the relay reports, so a large file sent over a bad connection arrives whole.
//! Only a refusal (too large, no right to upload there) stops it, with the relay's reason.
//! Leaving the page or reloading it ends the attempt; the relay sweeps the half upload later.

use crate::api::{self, ApiFailure};
use crate::features::chat::uploads::{Stop, send_rest, start_upload};
use crate::storage::sleep_ms;
use leptos::prelude::*;
use qiao_model::api::{FileScope, UploadState};
use qiao_model::library::{AddFile, LibraryFile};

/// A file on its way, for the progress rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Sending {
    pub key: String,
    pub name: String,
    pub sent: u64,
    pub size: u64,
    /// Waiting for the network to come back.
    pub waiting: bool,
}

/// How long to wait before trying again after the network failed.
const RETRY_MS: i32 = 2000;

/// Upload `file` into `folder` (as a new version of `entry` when given) and add it; `progress`
/// hears bytes sent and whether it is waiting for the network.
pub async fn upload_into(
    folder: String,
    entry: Option<String>,
    file: web_sys::File,
    progress: impl Fn(u64, bool),
) -> Result<LibraryFile, String> {
    let (name, mime) = (file.name(), file.type_());
    let scope = FileScope::Folder(folder.clone());
    let mut state: UploadState = loop {
        match start_upload(scope.clone(), &file, &name, &mime).await {
            Ok(s) => break s,
            Err(Stop::Later) => wait(&progress, 0).await?,
            Err(Stop::Refused(why)) => return Err(why),
        }
    };
    // The bytes the relay has acknowledged, shown while waiting.
    let acked = std::cell::Cell::new(state.received);
    let stored = loop {
        let sending = |n: u64| {
            acked.set(n);
            progress(n, false)
        };
        match send_rest(&file, state.clone(), sending).await {
            Ok(f) => break f,
            Err(Stop::Refused(why)) => return Err(why),
            Err(Stop::Later) => {
                // Ask where the upload stands once the relay answers again, and go on from there.
                wait(&progress, acked.get()).await?;
                state = loop {
                    match api::get::<UploadState>(&format!("/api/uploads/{}", state.id)).await {
                        Ok(s) => break s,
                        Err(ApiFailure::Refused(e)) => return Err(e.message),
                        Err(_) => wait(&progress, acked.get()).await?,
                    }
                };
            }
        }
    };
    let add = AddFile { file: stored.id.clone(), entry };
    loop {
        match api::post::<_, LibraryFile>(&format!("/api/library/folders/{folder}/files"), &add).await {
            Ok(f) => return Ok(f),
            Err(ApiFailure::Refused(e)) => return Err(e.message),
            Err(_) => wait(&progress, stored.size).await?,
        }
    }
}

/// Wait before trying again; `Err` once the person has logged out (the session's keys are gone):
/// the upload then stops rather than knocking at the relay for ever.
async fn wait(progress: &impl Fn(u64, bool), sent: u64) -> Result<(), String> {
    progress(sent, true);
    sleep_ms(RETRY_MS).await;
    if crate::storage::get("qiao.me").is_none() { Err("logged out".into()) } else { Ok(()) }
}

/// One progress row.
#[component]
pub fn SendingRow(s: Sending) -> impl IntoView {
    let i18n = crate::i18n::expect_i18n();
    let label = s.waiting.then(|| i18n.t("library.waiting_network"));
    view! {
        <crate::features::chat::attachments::ProgressRow name=s.name sent=s.sent size=s.size label=label
            testid="lib-sending" state=if s.waiting { "waiting" } else { "sending" } />
    }
}
