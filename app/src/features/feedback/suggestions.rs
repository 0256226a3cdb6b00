//! The suggestion box tab (建议): everyone's suggestions with their status, upvotes and the
//! admins' public replies, read from the synced suggestion box document
//! ([`qiao_model::schema::suggestions`]) — offline too.
//!
//! Upvotes and replies are ordinary changes to that document, made offline like any other. A
//! new suggestion is not: the relay files it (`POST /api/suggestions`) under its own actor, so
//! that an anonymous one never carries its author's actor id. What someone submits therefore
//! goes into an [`Outbox`] on their own device first (localStorage, per account) and leaves it
//! when the relay takes it; meanwhile the list shows it as "waiting to send". Sending later links
//! it no more than sending at once: the request carries the text and the anonymity switch, the
//! relay stores neither who sent it nor when (only the hour). Nothing about a sent suggestion is
//! kept on the device afterwards, so the device does not mark one's own anonymous suggestions
//! either.

use crate::api::{self, ApiFailure};
use crate::contexts::{RepoRef, expect_repo, expect_session};
use crate::i18n::{I18n, expect_i18n};
use crate::storage;
use crate::storage::queue::{Queue, Queued, Sent};
use crate::sync::repo::ConnStatus;
use leptos::prelude::*;
use qiao_model::acl::Role;
use qiao_model::ids::UserId;
use qiao_model::schema::suggestions::{self as sug, Signer, Status, Submission, Submitted, Suggestion};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// The categories offered (stored as these keys, shown translated).
const CATEGORIES: [&str; 5] = ["workplace", "process", "it", "benefits", "other"];

/// A submission waiting on this device for the relay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Pending {
    sub: Submission,
    /// Why the relay refused it (it stays, so the text is not lost, until discarded).
    #[serde(default)]
    error: Option<String>,
}

impl Queued for Pending {
    fn id(&self) -> String {
        self.sub.id.clone()
    }
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    fn set_error(&mut self, why: String) {
        self.error = Some(why);
    }
}

/// Submissions typed on this device that the relay has not taken yet.
#[derive(Clone, Copy)]
pub struct Outbox(Queue<Pending>);

impl Outbox {
    fn push(&self, sub: Submission) {
        self.0.push(Pending { sub, error: None });
        self.flush();
    }

    fn discard(&self, id: &str) {
        self.0.discard(id);
    }

    /// Send what waits. An id the relay has filed already (sent by another tab) is answered, not
    /// filed twice; past the flood limit it waits like offline.
    fn flush(&self) {
        if !self.0.waiting() {
            return;
        }
        let q = self.0;
        leptos::task::spawn_local(q.flush(|p: Pending| async move {
            match api::post::<_, Submitted>("/api/suggestions", &p.sub).await {
                Ok(_) => Sent::Taken,
                Err(ApiFailure::Offline | ApiFailure::Unauthorized) => Sent::Later,
                Err(ApiFailure::Refused(e)) if e.code == "rate_limited" => Sent::Later,
                Err(ApiFailure::Refused(e)) => Sent::Refused(e.message),
            }
        }));
    }
}

/// At start: open the suggestion box document (so it reads offline) and the outbox, which
/// sends whenever the relay is reachable (on connecting, and every 30 seconds meanwhile).
pub fn provide(repo: RepoRef, me: UserId) {
    let r = repo.get_value();
    let status = r.status;
    leptos::task::spawn_local(async move {
        r.open(sug::document_id(), sug::genesis).await;
    });
    let outbox = Outbox(Queue::load(format!("qiao.suggestions.outbox.{}", me.0)));
    provide_context(outbox);
    Effect::new(move |_| {
        if status.get() == ConnStatus::Online {
            outbox.flush();
        }
    });
    let cb = Closure::<dyn FnMut()>::new(move || {
        if status.try_get_untracked() == Some(ConnStatus::Online) {
            outbox.flush();
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(cb.as_ref().unchecked_ref(), 30_000);
    }
    cb.forget();
}

fn status_label(i18n: I18n, s: Status) -> String {
    i18n.t(&format!("sug.status.{}", s.as_str()))
}

fn category_label(i18n: I18n, c: &str) -> String {
    if CATEGORIES.contains(&c) { i18n.t(&format!("sug.category.{c}")) } else { c.to_string() }
}

/// A day, or a day and a minute.
fn format_day(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:04}-{:02}-{:02}", d.get_full_year(), d.get_month() + 1, d.get_date())
}

fn format_minute(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{} {:02}:{:02}", format_day(ms), d.get_hours(), d.get_minutes())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Newest,
    Votes,
}

#[component]
pub fn SuggestionsTab() -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let outbox = expect_context::<Outbox>();
    let me = expect_session().me.get_untracked().expect("logged in");
    let my_id = me.id;
    let admin = me.role != Role::Employee;
    let people = crate::features::chat::people::expect_people();
    let all = Memo::new(move |_| repo.with_value(|r| r.read(sug::document_id(), sug::list)).unwrap_or_default());
    let votes = Memo::new(move |_| repo.with_value(|r| r.read(sug::document_id(), sug::votes)).unwrap_or_default());
    let filter = RwSignal::new(None::<Status>);
    let sort = RwSignal::new(Sort::Newest);
    let composing = RwSignal::new(false);
    let shown = Memo::new(move |_| {
        let f = filter.get();
        let mut l: Vec<Suggestion> = all.get().into_iter().filter(|s| f.is_none_or(|f| s.status == f)).collect();
        if sort.get() == Sort::Votes {
            l.sort_by(|a, b| b.votes.cmp(&a.votes).then(b.created.cmp(&a.created)));
        }
        l
    });
    let count = move |s: Option<Status>| all.with(|l| l.iter().filter(|x| s.is_none_or(|s| x.status == s)).count());
    let chip = move |s: Option<Status>| {
        let key = s.map_or("all", Status::as_str);
        view! {
            <button class="chip-filter" role="tab" data-testid=format!("sug-filter-{key}")
                aria-selected=move || (filter.get() == s).to_string()
                on:click=move |_| filter.set(s)
            >
                {move || match s { Some(s) => status_label(i18n, s), None => i18n.t("sug.filter.all") }}
                <span class="sug-count">{move || count(s)}</span>
            </button>
        }
    };

    view! {
        <div class="sug-page">
            <div class="sug-intro">
                <p class="muted">{move || i18n.t("sug.intro")}</p>
                <button class="btn btn-primary btn-sm" data-testid="sug-new" on:click=move |_| composing.set(true)>
                    {move || i18n.t("sug.new")}
                </button>
            </div>
            <div class="sug-toolbar">
                <div class="sug-filters" role="tablist" aria-label=move || i18n.t("sug.filter.label")>
                    {chip(None)}
                    {Status::ALL.into_iter().map(|s| chip(Some(s))).collect_view()}
                </div>
                <label class="sug-sort">
                    <span class="muted">{move || i18n.t("sug.sort.label")}</span>
                    <select class="select select-sm" data-testid="sug-sort"
                        on:change=move |ev| sort.set(if event_target_value(&ev) == "votes" { Sort::Votes } else { Sort::Newest })
                    >
                        <option value="newest" selected=move || sort.get() == Sort::Newest>{move || i18n.t("sug.sort.newest")}</option>
                        <option value="votes" selected=move || sort.get() == Sort::Votes>{move || i18n.t("sug.sort.votes")}</option>
                    </select>
                </label>
            </div>
            <Show when=move || composing.get()>
                <SubmitDialog open=composing />
            </Show>
            <Show when=move || outbox.0.items.with(|l| !l.is_empty())>
                <ul class="sug-list sug-outbox" data-testid="sug-outbox" aria-label=move || i18n.t("sug.outbox")>
                    <For each=move || outbox.0.items.get() key=|q| format!("{q:?}") children=move |q: Pending| {
                        let id = q.sub.id.clone();
                        view! {
                            <li class="sug-card sug-card-pending" data-testid="sug-pending">
                                <div class="sug-main">
                                    <div class="sug-head">
                                        {match &q.error {
                                            None => view! { <span class="chip sug-chip-waiting">{i18n.t("sug.waiting")}</span> }.into_any(),
                                            Some(_) => view! { <span class="chip chip-overdue">{i18n.t("sug.refused")}</span> }.into_any(),
                                        }}
                                        {(!q.sub.title.trim().is_empty()).then(|| view! { <h3 class="sug-title">{q.sub.title.clone()}</h3> })}
                                    </div>
                                    <p class="sug-body">{q.sub.body.clone()}</p>
                                    <div class="sug-meta muted">
                                        {i18n.t(if q.sub.anonymous { "sug.anonymous" } else { "sug.signed_by_me" })}
                                        " · " {i18n.t("sug.waiting_hint")}
                                    </div>
                                    {q.error.clone().map(|e| view! {
                                        <p class="form-error" role="alert">{e}</p>
                                        <button class="btn btn-ghost btn-sm" on:click=move |_| outbox.discard(&id)>{i18n.t("sug.discard")}</button>
                                    })}
                                </div>
                            </li>
                        }
                    } />
                </ul>
            </Show>
            <Show when=move || shown.with(|s| s.is_empty()) && outbox.0.items.with(|l| l.is_empty())>
                <div class="empty-state" data-testid="sug-empty">
                    <h3>{move || i18n.t(if filter.get().is_some() { "sug.empty_filtered_title" } else { "sug.empty_title" })}</h3>
                    <p>{move || i18n.t(if filter.get().is_some() { "sug.empty_filtered_body" } else { "sug.empty_body" })}</p>
                </div>
            </Show>
            <ul class="sug-list">
                <For each=move || shown.get() key=|s| format!("{s:?}") children=move |s: Suggestion| {
                    let id = s.id.clone();
                    let voted = Memo::new({
                        let id = id.clone();
                        move |_| votes.with(|v| v.get(&id).is_some_and(|u| u.contains(&my_id)))
                    });
                    let vote_id = id.clone();
                    let votes_now = s.votes;
                    let responding = RwSignal::new(false);
                    let status = s.status;
                    // The directory's name for who replied: the stored name is only the writer's word.
                    let reply_name = s.reply_by.and_then(|u| people.name_of(u)).unwrap_or_else(|| s.reply_name.clone());
                    view! {
                        <li class="sug-card" data-testid="sug-item" data-id=id.clone() data-status=status.as_str()>
                            <button class="sug-vote" data-testid="sug-upvote" aria-pressed=move || voted.get().to_string()
                                title=move || i18n.t(if voted.get() { "sug.unvote" } else { "sug.vote" })
                                aria-label=move || i18n.tf("sug.vote_label", &[("n", votes_now.to_string())])
                                on:click=move |_| {
                                    let id = vote_id.clone();
                                    repo.with_value(|r| r.change(sug::document_id(), |d| sug::toggle_vote(d, &id, my_id)));
                                }
                            >
                                <span class="sug-vote-arrow" aria-hidden="true">"▲"</span>
                                <span class="sug-vote-count" data-testid="sug-votes">{s.votes}</span>
                            </button>
                            <div class="sug-main">
                                <div class="sug-head">
                                    <span class=format!("chip sug-status sug-status-{}", status.as_str()) data-testid="sug-status">{status_label(i18n, status)}</span>
                                    {(!s.category.is_empty()).then(|| view! { <span class="chip">{category_label(i18n, &s.category)}</span> })}
                                    {(!s.title.is_empty()).then(|| view! { <h3 class="sug-title">{s.title.clone()}</h3> })}
                                </div>
                                <p class="sug-body">{s.body.clone()}</p>
                                <div class="sug-meta muted" data-testid="sug-author">
                                    {match s.author {
                                        None => view! { <span class="sug-anon">{i18n.t("sug.anonymous")}</span> }.into_any(),
                                        Some(_) => view! { <span>{s.author_name.clone()}</span> }.into_any(),
                                    }}
                                    " · " {format_day(s.created)}
                                </div>
                                {(!s.reply.is_empty()).then(|| view! {
                                    <div class="sug-reply" data-testid="sug-reply">
                                        <div class="sug-reply-head">
                                            <strong>{i18n.t("sug.reply_from")}</strong>
                                            <span class="muted">{reply_name} " · " {format_minute(s.reply_ts)}</span>
                                        </div>
                                        <p class="sug-reply-text">{s.reply.clone()}</p>
                                    </div>
                                })}
                                {admin.then(|| {
                                    let id = id.clone();
                                    view! {
                                        <Show when=move || responding.get() fallback=move || view! {
                                            <div class="sug-actions">
                                                <button class="btn btn-ghost btn-sm" data-testid="sug-respond" on:click=move |_| responding.set(true)>
                                                    {i18n.t("sug.respond")}
                                                </button>
                                            </div>
                                        }>
                                            <Respond id=id.clone() status=status open=responding />
                                        </Show>
                                    }
                                })}
                            </div>
                        </li>
                    }
                } />
            </ul>
        </div>
    }
}

/// An admin's answer: the status, and a public reply.
#[component]
fn Respond(id: String, status: Status, open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let me = expect_session().me.get_untracked().expect("logged in");
    let chosen = RwSignal::new(status);
    let reply = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let admin = Signer { id: me.id, name: me.display_name.clone() };
        let text = reply.get_untracked();
        let r = repo.with_value(|r| {
            r.change(sug::document_id(), |d| {
                sug::respond(d, &id, chosen.get_untracked(), &text, &admin, storage::now_ms())
            })
        });
        match r {
            Some(Ok(())) => open.set(false),
            Some(Err(e)) => error.set(Some(e.to_string())),
            None => error.set(Some(i18n.t("sug.not_ready"))),
        }
    };
    view! {
        <form class="sug-respond" data-testid="sug-respond-form" on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
        >
            <label class="field">
                <span class="field-label">{move || i18n.t("sug.status_label")}</span>
                <select class="select select-sm" data-testid="sug-status-select"
                    on:change=move |ev| chosen.set(Status::parse(&event_target_value(&ev)).unwrap_or_default())
                >
                    {Status::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || chosen.get() == s>{move || status_label(i18n, s)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span class="field-label">{move || i18n.t("sug.reply_label")}</span>
                <textarea class="input" rows="3" maxlength="5000" data-testid="sug-reply-input"
                    placeholder=move || i18n.t("sug.reply_placeholder")
                    prop:value=move || reply.get() on:input=move |ev| reply.set(event_target_value(&ev))></textarea>
                <span class="field-hint">{move || i18n.t("sug.reply_hint")}</span>
            </label>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="sug-respond-actions">
                <button type="button" class="btn btn-secondary btn-sm" on:click=move |_| open.set(false)>{move || i18n.t("sug.cancel")}</button>
                <button type="submit" class="btn btn-primary btn-sm" data-testid="sug-respond-save">{move || i18n.t("sug.save")}</button>
            </div>
        </form>
    }
}

#[component]
fn SubmitDialog(open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let outbox = expect_context::<Outbox>();
    let me = expect_session().me.get_untracked().expect("logged in");
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let anonymous = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let sub = Submission {
            id: format!("s{}", storage::random_hex::<12>()),
            title: title.get_untracked().trim().to_string(),
            body: body.get_untracked().trim().to_string(),
            category: category.get_untracked(),
            anonymous: anonymous.get_untracked(),
        };
        match sug::check(&sub) {
            Ok(()) => {
                outbox.push(sub);
                open.set(false);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let name = me.display_name.clone();
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <form class="modal sug-dialog" role="dialog" aria-modal="true" aria-labelledby="sug-dialog-title" data-testid="sug-dialog"
                on:click=|ev| ev.stop_propagation()
                on:submit=submit
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                <h3 class="modal-title" id="sug-dialog-title">{move || i18n.t("sug.new")}</h3>
                <div class="modal-body">
                    <label class="field">
                        <span class="field-label">{move || i18n.t("sug.title_label")}</span>
                        <input class="input" maxlength="80" data-testid="sug-title" placeholder=move || i18n.t("sug.title_placeholder")
                            prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
                    </label>
                    <label class="field">
                        <span class="field-label">{move || i18n.t("sug.body_label")}</span>
                        <textarea class="input" rows="5" maxlength="5000" data-testid="sug-body" autofocus
                            placeholder=move || i18n.t("sug.body_placeholder")
                            prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                    </label>
                    <label class="field">
                        <span class="field-label">{move || i18n.t("sug.category_label")}</span>
                        <select class="select" data-testid="sug-category" on:change=move |ev| category.set(event_target_value(&ev))>
                            <option value="">{move || i18n.t("sug.category.none")}</option>
                            {CATEGORIES.into_iter().map(|c| view! { <option value=c>{move || category_label(i18n, c)}</option> }).collect_view()}
                        </select>
                    </label>
                    <div class="sug-anon-box" class:sug-anon-on=move || anonymous.get()>
                        <label class="switch">
                            <input type="checkbox" role="switch" data-testid="sug-anonymous"
                                prop:checked=move || anonymous.get()
                                on:change=move |ev| anonymous.set(event_target_checked(&ev)) />
                            <span class="switch-track" aria-hidden="true"></span>
                            <span class="switch-label">{move || i18n.t("sug.anonymous_switch")}</span>
                        </label>
                        <p class="sug-anon-explain" data-testid="sug-anon-explain">
                            {move || if anonymous.get() {
                                i18n.t("sug.anonymous_explain")
                            } else {
                                i18n.tf("sug.signed_explain", &[("name", name.clone())])
                            }}
                        </p>
                    </div>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>{move || i18n.t("sug.cancel")}</button>
                    <button type="submit" class="btn btn-primary" data-testid="sug-submit"
                        disabled=move || body.with(|b| b.trim().is_empty())
                    >{move || i18n.t(if anonymous.get() { "sug.submit_anonymous" } else { "sug.submit_signed" })}</button>
                </div>
            </form>
        </div>
    }
}
