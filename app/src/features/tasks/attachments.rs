//! Files attached to a task: listed with their size and a download link, added by members with
//! a progress bar, taken off again.
//!
//! A file is uploaded into the project (not into a conversation), so whoever may read the
//! project's board may download it, and nobody else: the relay checks that on every download.
//! The upload itself is the chat's (SHA-256 announced first, chunks acknowledged once on the
//! relay's disk, resumable); only once the relay holds the whole file does the task name it, so
//! a task never points at half a file. Attaching needs the network: offline, the person is told
//! so and the file stays where it was on their device.

use super::{Projects, expect_projects};
use crate::features::chat::attachments::{FileCard, ProgressRow};
use crate::features::chat::uploads::{send_rest, start_upload};
use crate::i18n::expect_i18n;
use crate::storage::now_ms;
use leptos::prelude::*;
use qiao_model::api::FileScope;
use qiao_model::ids::ProjectId;
use qiao_model::schema::tasks::{self, Edit, TaskFile};

/// One file on its way: its name, bytes sent and size.
#[derive(Clone, PartialEq)]
struct Sending {
    name: String,
    sent: u64,
    size: u64,
}

async fn attach(
    me: qiao_model::ids::UserId,
    projects: Projects,
    project: ProjectId,
    task: String,
    file: web_sys::File,
    sending: RwSignal<Option<Sending>>,
) -> Result<(), Option<String>> {
    let (name, mime, size) = (file.name(), file.type_(), file.size() as u64);
    sending.set(Some(Sending { name: name.clone(), sent: 0, size }));
    let state =
        start_upload(FileScope::Project(project.clone()), &file, &name, &mime).await.map_err(|s| s.message())?;
    let stored = send_rest(&file, state, |sent| {
        sending.update(|s| {
            if let Some(s) = s {
                s.sent = sent
            }
        })
    })
    .await
    .map_err(|s| s.message())?;
    let f = TaskFile { id: stored.id, name: stored.name, size: stored.size, mime: stored.mime, by: me, at: now_ms() };
    projects.change(&project, move |d| tasks::edit(d, &task, Edit::Attach(f), now_ms()));
    Ok(())
}

#[component]
pub fn TaskFiles(project: ProjectId, task_id: String, files: Vec<TaskFile>, editable: bool) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    // Read here: contexts are not reachable from inside the upload's task.
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let sending = RwSignal::new(None::<Sending>);
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<leptos::html::Input>::new();
    let (p, t) = (StoredValue::new(project.clone()), StoredValue::new(task_id.clone()));
    let on_pick = move |_| {
        let Some(el) = input.get() else { return };
        let Some(list) = el.files() else { return };
        let picked: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        el.set_value("");
        error.set(None);
        leptos::task::spawn_local(async move {
            for file in picked {
                if let Err(why) = attach(me, projects, p.get_value(), t.get_value(), file, sending).await {
                    error.set(Some(why.unwrap_or_else(|| i18n.t("tasks.files_offline"))));
                    break;
                }
            }
            sending.set(None);
        });
    };
    let count = files.len();
    view! {
        <section class="task-section task-files-section" data-testid="task-files">
            <h4>{i18n.t("tasks.files")} {(count > 0).then(|| format!(" {count}"))}</h4>
            <ul class="task-files">
                {files.into_iter().map(|f| {
                    let id = f.id.clone();
                    let (pp, tt) = (project.clone(), task_id.clone());
                    view! {
                        <li>
                            <FileCard id=f.id.clone() name=f.name.clone() size=f.size testid="task-file" download_testid="task-file-download">
                                {editable.then(|| view! {
                                    <button class="icon-btn icon-btn-sm" data-testid="task-file-remove" aria-label=i18n.t("tasks.remove")
                                        on:click=move |_| {
                                            let id = id.clone();
                                            let tt = tt.clone();
                                            projects.change(&pp, move |d| tasks::edit(d, &tt, Edit::Detach(id), now_ms()));
                                        }
                                    >"×"</button>
                                })}
                            </FileCard>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || sending.get().map(|s| view! { <ProgressRow name=s.name sent=s.sent size=s.size testid="task-file-sending" /> })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="task-file-error">{e}</p> })}
            {editable.then(|| view! {
                <label class="btn btn-secondary btn-sm task-file-add">
                    {i18n.t("tasks.attach")}
                    <input type="file" multiple class="sr-only" data-testid="task-file-input" node_ref=input on:change=on_pick />
                </label>
            })}
        </section>
    }
}
