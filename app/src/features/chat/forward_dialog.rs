//! Forwarding a message (转发) to another conversation: a copy that says where it came from.
//! Its files are forwarded by the relay (`POST /api/files/{id}/forward`), which makes them files
//! of the target conversation so that its members may open them; that needs the network, while
//! forwarding text works offline like any message.

use super::shell::Channels;
use super::sidebar::display_name;
use super::uploads::writable_segment;
use crate::api::{self, ApiFailure};
use crate::contexts::RepoRef;
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::{ChannelSummary, FileInfo, ForwardFile, Me};
use qiao_model::schema::chat::{self, Attachment, ChatMessage};

/// What is being forwarded: the message and the name of the conversation it is in.
#[derive(Clone)]
pub struct Forwarding {
    pub msg: ChatMessage,
    pub from: String,
}

async fn forward_file(a: &Attachment, to: &ChannelSummary) -> Result<Attachment, ApiFailure> {
    let body = ForwardFile { channel: to.id.clone() };
    let f: FileInfo = api::post(&format!("/api/files/{}/forward", a.id), &body).await?;
    let thumb = match &a.thumb {
        Some(t) => api::post::<_, FileInfo>(&format!("/api/files/{t}/forward"), &body).await.ok().map(|f| f.id),
        None => None,
    };
    Ok(Attachment { id: f.id, thumb, ..a.clone() })
}

#[component]
pub fn ForwardDialog(what: RwSignal<Option<Forwarding>>, repo: RepoRef, me: Me) -> impl IntoView {
    let i18n = expect_i18n();
    let channels = expect_context::<Channels>();
    let filter = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let me = StoredValue::new(me);
    let targets = Memo::new(move |_| {
        let f = filter.get().to_lowercase();
        channels.list.with(|l| {
            l.iter()
                .filter(|c| !c.archived && (f.is_empty() || display_name(c).to_lowercase().contains(&f)))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let send_to = move |to: ChannelSummary| {
        let Some(fw) = what.get_untracked() else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let mut files = Vec::new();
            for a in &fw.msg.files {
                match forward_file(a, &to).await {
                    Ok(f) => files.push(f),
                    Err(ApiFailure::Offline) => {
                        error.set(Some(i18n.t("forward.files_need_network")));
                        busy.set(false);
                        return;
                    }
                    Err(e) => {
                        error.set(Some(e.message()));
                        busy.set(false);
                        return;
                    }
                }
            }
            let me = me.get_value();
            let repo = repo.get_value();
            let doc = writable_segment(&repo, &to.id, to.head_segment).await;
            let mut msg = ChatMessage::new(
                storage::random_hex::<8>(),
                me.id,
                me.display_name.clone(),
                storage::now_ms(),
                fw.msg.text.clone(),
            );
            msg.files = files;
            msg.forwarded_from = Some(format!("{} · {}", fw.msg.author_name, fw.from));
            match repo.change(doc, |d| chat::append(d, &msg)) {
                Some(Ok(())) => what.set(None),
                Some(Err(e)) => error.set(Some(e.to_string())),
                None => {}
            }
            busy.set(false);
        });
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| what.set(None)>
            <div
                class="modal search-modal"
                role="dialog"
                aria-modal="true"
                aria-label=move || i18n.t("forward.title")
                data-testid="forward-dialog"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        what.set(None);
                    }
                }
            >
                <h3 class="modal-title">{move || i18n.t("forward.title")}</h3>
                <div class="forward-preview muted">
                    {move || what.with(|w| w.as_ref().map(|w| qiao_model::markdown::excerpt(&w.msg.text, 100)).unwrap_or_default())}
                </div>
                <input
                    class="input search-input"
                    type="search"
                    data-testid="forward-filter"
                    placeholder=move || i18n.t("forward.filter")
                    aria-label=move || i18n.t("forward.filter")
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
                {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <div class="search-results">
                    <For
                        each=move || targets.get()
                        key=|c| c.id.clone()
                        children=move |c| {
                            let name = display_name(&c);
                            let c2 = c.clone();
                            view! {
                                <button
                                    class="search-result"
                                    data-testid="forward-target"
                                    data-channel-name=name.clone()
                                    disabled=move || busy.get()
                                    on:click=move |_| send_to(c2.clone())
                                >
                                    <span class="message-author">{name.clone()}</span>
                                </button>
                            }
                        }
                    />
                </div>
            </div>
        </div>
    }
}
