//! One ticket: what was asked, the times the relay recorded, the files, the conversation, and
//! the actions of whoever is looking — an agent assigns, answers and moves the status; the
//! requester answers, and once it is resolved confirms with a rating or reopens it. Every action
//! is a change to the ticket's document (offline too); the relay checks each against the rules
//! in [`qiao_model::schema::helpdesk::validate`], so the buttons shown here are a convenience,
//! not the check.

use super::{StatusBadge, category_label, duration, expect_helpdesk, short_time};
use crate::contexts::{RepoRef, expect_repo, expect_session};
use crate::features::chat::attachments::{ProgressRow, kind, url};
use crate::features::chat::uploads::{human_size, send_rest, start_upload};
use crate::i18n::expect_i18n;
use crate::storage::now_ms;
use automerge::AutoCommit;
use leptos::prelude::*;
use qiao_model::api::FileScope;
use qiao_model::ids::{DocumentId, UserId};
use qiao_model::schema::helpdesk::{self, Status, TicketFile, TicketSummary};

/// Apply `f` to the ticket's document (kept locally and synced when possible).
fn edit(repo: RepoRef, doc: DocumentId, f: impl FnOnce(&mut AutoCommit)) {
    repo.with_value(|r| {
        r.change(doc, |d| {
            f(d);
            Ok::<_, ()>(())
        })
    });
}

/// Upload `file` into ticket `t` (resumable, like chat files) and name it in the ticket once the
/// relay holds all of it. `Err(None)`: no network; `Err(Some(why))`: refused.
pub(super) async fn attach(
    repo: crate::sync::repo::Repo,
    me: UserId,
    t: &TicketSummary,
    file: web_sys::File,
    progress: impl Fn(u64),
) -> Result<(), Option<String>> {
    let (name, mime) = (file.name(), file.type_());
    let state = start_upload(FileScope::Ticket(t.id.clone()), &file, &name, &mime).await.map_err(|s| s.message())?;
    let stored = send_rest(&file, state, progress).await.map_err(|s| s.message())?;
    let f = TicketFile { id: stored.id, name: stored.name, mime: stored.mime, size: stored.size, by: me, ts: now_ms() };
    let g = t.id.clone();
    let requester = t.requester;
    repo.open(t.document, move || helpdesk::genesis(&g, requester)).await;
    repo.change(t.document, |d| helpdesk::attach(d, &f, now_ms()));
    Ok(())
}

#[component]
pub fn TicketPanel(id: String) -> impl IntoView {
    let i18n = expect_i18n();
    let h = expect_helpdesk();
    let repo = expect_repo();
    let me = expect_session().me.get_untracked().expect("logged in");
    let (my_id, my_name) = (me.id, me.display_name.clone());
    let summary = Memo::new(move |_| h.summary(&id));
    let Some(first) = summary.get_untracked() else { return ().into_any() };
    let first_status = first.status;
    let doc = first.document;
    let requester = first.requester;
    let ticket = Memo::new(move |_| summary.get().and_then(|s| h.read(&s)));
    let status = Memo::new(move |_| ticket.with(|t| t.as_ref().map(|t| t.status)).unwrap_or(first_status));
    let is_agent = Memo::new(move |_| h.agent());
    let is_requester = requester == my_id;
    let rating = RwSignal::new(0u8);
    let feedback = RwSignal::new(String::new());
    let reply = RwSignal::new(String::new());
    let name_s = StoredValue::new(my_name.clone());
    // The relay stamps its times when it stores a change: when the ticket opens, and whenever it
    // changed and the relay holds all of it (nothing of ours unacknowledged), ask for the times.
    let pending = repo.with_value(|r| r.pending(doc));
    Effect::new(move |_| {
        ticket.track();
        if pending.is_none_or(|p| p.get() == 0) {
            leptos::task::spawn_local(h.refresh());
        }
    });

    let set_status = move |s: Status| edit(repo, doc, move |d| helpdesk::set_status(d, s, now_ms()));
    let name_of = move |u: UserId| h.agents.with(|l| l.iter().find(|a| a.id == u).map(|a| a.display_name.clone()));
    let send_reply = {
        let my_name = my_name.clone();
        move || {
            let body = reply.get_untracked();
            if body.trim().is_empty() {
                return;
            }
            let name = my_name.clone();
            let id = crate::storage::random_hex::<8>();
            let done = repo.with_value(|r| r.change(doc, |d| helpdesk::reply(d, &id, my_id, &name, &body, now_ms())));
            if matches!(done, Some(Ok(_))) {
                reply.set(String::new());
            }
        }
    };
    let send_reply2 = send_reply.clone();

    let step = move |label: &'static str, at: Option<i64>, from: Option<i64>, testid: &'static str| {
        view! {
            <li class="hd-step" class:hd-step-done=at.is_some() data-testid=testid>
                <span class="hd-step-label">{move || i18n.t(label)}</span>
                <span class="hd-step-time">{at.map(short_time).unwrap_or_else(|| "—".into())}</span>
                {match (at, from) {
                    (Some(a), Some(f)) => Some(view! { <span class="hd-step-took muted">{move || format!("+{}", duration(i18n, a - f))}</span> }),
                    _ => None,
                }}
            </li>
        }
    };

    view! {
        <article class="hd-ticket" data-testid="hd-detail" data-status=move || status.get().as_str()>
            <button class="btn btn-ghost btn-sm hd-back" data-testid="hd-back" on:click=move |_| h.selected.set(None)>
                "← " {move || i18n.t("helpdesk.back")}
            </button>
            <header class="hd-ticket-head">
                <h3 class="hd-ticket-title" data-testid="hd-detail-title">
                    {move || ticket.with(|t| t.as_ref().map(|t| t.title.clone())).or_else(|| summary.get().map(|s| s.title)).unwrap_or_default()}
                </h3>
                {move || view! { <StatusBadge status=status.get() /> }}
            </header>
            <div class="hd-ticket-meta muted">
                {move || summary.get().map(|s| view! {
                    <span class="chip">{category_label(i18n, &s.category)}</span>
                    <span>{i18n.t("helpdesk.requester")} ": " {s.requester_name.clone()}</span>
                    <span>{i18n.t("helpdesk.assignee")} ": "
                        {s.assignee.and_then(name_of).or_else(|| ticket.with(|t| t.as_ref().map(|t| t.assignee_name.clone()).filter(|n| !n.is_empty())))
                            .unwrap_or_else(|| i18n.t("helpdesk.unassigned"))}
                    </span>
                })}
            </div>
            // The relay's clock, not this device's: what the figures are computed from.
            <ol class="hd-times" aria-label=move || i18n.t("helpdesk.times")>
                {move || summary.get().map(|s| view! {
                    {step("helpdesk.step.created", Some(s.created_at), None, "hd-time-created")}
                    {step("helpdesk.step.response", s.first_response_at, Some(s.created_at), "hd-time-response")}
                    {step("helpdesk.step.resolved", s.resolved_at, Some(s.created_at), "hd-time-resolved")}
                    {step("helpdesk.step.closed", s.closed_at, Some(s.created_at), "hd-time-closed")}
                })}
            </ol>
            <Show when=move || ticket.with(|t| t.is_none())>
                <p class="muted hd-loading">{move || i18n.t("helpdesk.loading")}</p>
            </Show>
            <section class="hd-section">
                <h4>{move || i18n.t("helpdesk.description")}</h4>
                <p class="hd-description" data-testid="hd-description">
                    {move || ticket.with(|t| t.as_ref().map(|t| t.description.clone()).filter(|d| !d.is_empty()))
                        .unwrap_or_else(|| i18n.t("helpdesk.no_description"))}
                </p>
            </section>
            <TicketFiles summary=first.clone() files=Memo::new(move |_| ticket.with(|t| t.as_ref().map(|t| t.files.clone()).unwrap_or_default())) />

            <Show when=move || is_agent.get()>
                <section class="hd-section hd-agent-actions" data-testid="hd-agent-actions">
                    <h4>{move || i18n.t("helpdesk.handle")}</h4>
                    <div class="hd-actions">
                        <label class="hd-assign">
                            <span class="muted">{move || i18n.t("helpdesk.assign_to")}</span>
                            <select class="select select-sm" data-testid="hd-assign"
                                prop:value=move || ticket.with(|t| t.as_ref().and_then(|t| t.assignee).map(|a| a.0).unwrap_or(0).to_string())
                                on:change=move |ev| {
                                    let v: i64 = event_target_value(&ev).parse().unwrap_or(0);
                                    let to = (v != 0).then(|| (UserId(v), name_of(UserId(v)).unwrap_or_default()));
                                    edit(repo, doc, move |d| helpdesk::assign(d, to, now_ms()));
                                }
                            >
                                <option value="0">{move || i18n.t("helpdesk.unassigned")}</option>
                                {move || h.agents.get().into_iter().map(|a| view! {
                                    <option value=a.id.0.to_string()>{a.display_name.clone()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <Show when=move || ticket.with(|t| t.as_ref().is_some_and(|t| t.assignee != Some(my_id)))>
                            <button class="btn btn-secondary btn-sm" data-testid="hd-assign-me" on:click=move |_| {
                                let to = Some((my_id, name_s.get_value()));
                                edit(repo, doc, move |d| helpdesk::assign(d, to, now_ms()));
                            }>{move || i18n.t("helpdesk.assign_me")}</button>
                        </Show>
                        <span class="spacer"></span>
                        <Show when=move || status.get() == Status::New>
                            <button class="btn btn-secondary btn-sm" data-testid="hd-start" on:click=move |_| set_status(Status::InProgress)>
                                {move || i18n.t("helpdesk.start")}
                            </button>
                        </Show>
                        <Show when=move || matches!(status.get(), Status::New | Status::InProgress)>
                            <button class="btn btn-primary btn-sm" data-testid="hd-resolve" on:click=move |_| set_status(Status::Resolved)>
                                {move || i18n.t("helpdesk.resolve")}
                            </button>
                        </Show>
                        <Show when=move || status.get() == Status::Resolved>
                            <button class="btn btn-secondary btn-sm" data-testid="hd-close" on:click=move |_| set_status(Status::Closed)>
                                {move || i18n.t("helpdesk.close")}
                            </button>
                        </Show>
                        <Show when=move || status.get().solved() && !is_requester>
                            <button class="btn btn-ghost btn-sm" data-testid="hd-agent-reopen" on:click=move |_| set_status(Status::InProgress)>
                                {move || i18n.t("helpdesk.reopen")}
                            </button>
                        </Show>
                    </div>
                </section>
            </Show>

            <Show when=move || is_requester && status.get() == Status::Resolved>
                <section class="hd-section hd-confirm" data-testid="hd-confirm-box">
                    <h4>{move || i18n.t("helpdesk.confirm_title")}</h4>
                    <p class="muted">{move || i18n.t("helpdesk.confirm_body")}</p>
                    <div class="hd-stars" role="radiogroup" aria-label=move || i18n.t("helpdesk.rating")>
                        {(1u8..=5).map(|n| view! {
                            <button type="button" class="hd-star" role="radio" data-testid="hd-rate" data-value=n.to_string()
                                aria-checked=move || (rating.get() == n).to_string()
                                class:hd-star-on=move || { rating.get() >= n }
                                aria-label=move || i18n.tf("helpdesk.stars", &[("n", n.to_string())])
                                on:click=move |_| rating.set(n)
                            >"★"</button>
                        }).collect_view()}
                        <span class="muted hd-rating-word">{move || match rating.get() {
                            0 => String::new(),
                            n => i18n.t(&format!("helpdesk.rating.{n}")),
                        }}</span>
                    </div>
                    <textarea class="textarea" rows="2" maxlength="1000" data-testid="hd-feedback"
                        placeholder=move || i18n.t("helpdesk.feedback_placeholder")
                        prop:value=move || feedback.get() on:input=move |ev| feedback.set(event_target_value(&ev))></textarea>
                    <div class="hd-actions">
                        <button class="btn btn-primary btn-sm" data-testid="hd-confirm" disabled=move || rating.get() == 0
                            on:click=move |_| {
                                let (r, f) = (rating.get_untracked(), feedback.get_untracked());
                                edit(repo, doc, move |d| { let _ = helpdesk::confirm(d, r, &f, now_ms()); });
                            }
                        >{move || i18n.t("helpdesk.confirm")}</button>
                        <button class="btn btn-ghost btn-sm" data-testid="hd-reopen" on:click=move |_| set_status(Status::InProgress)>
                            {move || i18n.t("helpdesk.not_fixed")}
                        </button>
                    </div>
                </section>
            </Show>
            {move || ticket.get().and_then(|t| t.rating.map(|r| (r, t.feedback.clone()))).map(|(r, f)| view! {
                <section class="hd-section hd-rated" data-testid="hd-rated" data-rating=r.to_string()>
                    <h4>{move || i18n.t("helpdesk.rating")}</h4>
                    <div class="hd-stars hd-stars-static" aria-label=move || i18n.tf("helpdesk.stars", &[("n", r.to_string())])>
                        {(1u8..=5).map(|n| view! { <span class="hd-star" class:hd-star-on={n <= r} aria-hidden="true">"★"</span> }).collect_view()}
                        <span class="muted hd-rating-word">{move || i18n.t(&format!("helpdesk.rating.{r}"))}</span>
                    </div>
                    {(!f.is_empty()).then(|| view! { <p class="hd-feedback-text">{f.clone()}</p> })}
                    {(is_requester && status.get_untracked() == Status::Closed).then(|| view! {
                        <button class="btn btn-ghost btn-sm" data-testid="hd-reopen" on:click=move |_| set_status(Status::InProgress)>
                            {move || i18n.t("helpdesk.not_fixed")}
                        </button>
                    })}
                </section>
            })}

            <section class="hd-section">
                <h4>{move || i18n.t("helpdesk.conversation")}</h4>
                <ol class="hd-replies">
                    {move || ticket.get().map(|t| {
                        if t.replies.is_empty() {
                            return view! { <li class="muted hd-no-replies">{i18n.t(if is_requester { "helpdesk.no_replies_requester" } else { "helpdesk.no_replies" })}</li> }.into_any();
                        }
                        t.replies.into_iter().map(|r| {
                            let from_requester = r.author == t.requester;
                            view! {
                                <li class="hd-reply" class:hd-reply-agent=!from_requester class:hd-reply-mine=r.author == my_id
                                    data-testid="hd-reply" data-author=r.author.0.to_string()>
                                    <div class="hd-reply-head">
                                        <span class="hd-reply-author">{r.author_name.clone()}</span>
                                        {(!from_requester).then(|| view! { <span class="chip chip-label">{i18n.t("helpdesk.it_staff")}</span> })}
                                        <span class="muted hd-reply-time">{short_time(r.ts)}</span>
                                    </div>
                                    <p class="hd-reply-body">{r.body.clone()}</p>
                                </li>
                            }
                        }).collect_view().into_any()
                    })}
                </ol>
                <form class="hd-composer" on:submit=move |ev| { ev.prevent_default(); send_reply(); }>
                    <textarea class="textarea" rows="3" maxlength="10000" data-testid="hd-reply-input"
                        placeholder=move || i18n.t("helpdesk.reply_placeholder")
                        prop:value=move || reply.get() on:input=move |ev| reply.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) { ev.prevent_default(); send_reply2(); }
                    ></textarea>
                    <div class="hd-actions">
                        <span class="muted hd-hint">{move || i18n.t("helpdesk.reply_hint")}</span>
                        <span class="spacer"></span>
                        <button type="submit" class="btn btn-primary btn-sm" data-testid="hd-reply-send"
                            disabled=move || reply.with(|r| r.trim().is_empty())
                        >{move || i18n.t("helpdesk.send")}</button>
                    </div>
                </form>
            </section>
        </article>
    }
    .into_any()
}

/// One file on its way: its name, bytes sent and size.
#[derive(Clone, PartialEq)]
struct Sending {
    name: String,
    sent: u64,
    size: u64,
}

#[component]
fn TicketFiles(summary: TicketSummary, files: Memo<Vec<TicketFile>>) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let me = expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let sending = RwSignal::new(None::<Sending>);
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<leptos::html::Input>::new();
    let t = StoredValue::new(summary);
    let on_pick = move |_| {
        let Some(el) = input.get() else { return };
        let Some(list) = el.files() else { return };
        let picked: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        el.set_value("");
        error.set(None);
        // Read here: contexts are not reachable from inside the upload's task.
        let r = repo.get_value();
        leptos::task::spawn_local(async move {
            for file in picked {
                let (name, size) = (file.name(), file.size() as u64);
                sending.set(Some(Sending { name, sent: 0, size }));
                let progress = move |sent| {
                    sending.update(|s| {
                        if let Some(s) = s {
                            s.sent = sent
                        }
                    })
                };
                if let Err(why) = attach(r.clone(), me, &t.get_value(), file, progress).await {
                    error.set(Some(why.unwrap_or_else(|| i18n.t("helpdesk.files_offline"))));
                    break;
                }
            }
            sending.set(None);
        });
    };
    view! {
        <section class="hd-section" data-testid="hd-files">
            <h4>{move || i18n.t("helpdesk.files")} {move || files.with(|f| (!f.is_empty()).then(|| format!(" {}", f.len())))}</h4>
            <ul class="task-files">
                {move || files.get().into_iter().map(|f| view! {
                    <li class="attachment-file" data-testid="hd-file" data-file-id=f.id.clone()>
                        <span class="attachment-kind" aria-hidden="true">{kind(&f.name)}</span>
                        <span class="attachment-meta">
                            <span class="attachment-name" title=f.name.clone()>{f.name.clone()}</span>
                            <span class="muted attachment-size">{human_size(f.size)}</span>
                        </span>
                        <a class="btn btn-ghost btn-sm" href=url(&f.id) download=f.name.clone() data-testid="hd-file-download">
                            {i18n.t("files.download")}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
            {move || sending.get().map(|s| view! { <ProgressRow name=s.name sent=s.sent size=s.size testid="hd-file-sending" /> })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="hd-file-error">{e}</p> })}
            <label class="btn btn-secondary btn-sm hd-file-add">
                {move || i18n.t("helpdesk.attach")}
                <input type="file" multiple class="sr-only" data-testid="hd-file-input" node_ref=input on:change=on_pick />
            </label>
        </section>
    }
}
