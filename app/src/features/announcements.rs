//! Announcements (公告): the company's notices, one synced document read offline like the rest.
//! Pinned ones first, then newest; a category filter; "must read" notices ask each recipient to
//! confirm (我已阅读), and their author and admins see who has and has not. Publishers (super
//! admins to everyone, department admins to their department) write them here; the relay checks
//! every operation ([`qiao_model::schema::announcements::validate`]).

use crate::contexts::{RepoRef, expect_repo, expect_session};
use crate::features::admin::format_time;
use crate::features::chat::people::expect_people;
use crate::features::tasks::{new_id, now_ms};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::acl::{self, Actor, Role};
use qiao_model::ids::UserId;
use qiao_model::schema::announcements::{self as ann, Announcement};

/// The announcement to scroll to when the page opens (set by search).
#[derive(Clone, Copy)]
pub struct Focus(pub RwSignal<Option<String>>);

/// Open the announcements document (at start, so it reads offline) and return a handle.
pub fn provide(repo: RepoRef) {
    provide_context(Focus(RwSignal::new(None)));
    let r = repo.get_value();
    leptos::task::spawn_local(async move {
        r.open(ann::document_id(), ann::genesis).await;
    });
}

/// How many must-read announcements this person has not confirmed (the sidebar's badge).
pub fn pending_count(repo: RepoRef, me: UserId, dept: Option<String>) -> usize {
    repo.with_value(|r| r.read(ann::document_id(), |d| ann::unacknowledged(d, me, dept.as_deref()).len())).unwrap_or(0)
}

/// Whether `me` (of department `dept`) sees announcement `a`: everyone's, their department's,
/// their own; super admins all.
fn visible_to(a: &Announcement, me: &qiao_model::api::Me, dept: &str) -> bool {
    !a.deleted && (a.dept.is_empty() || a.dept == dept || me.role == Role::SuperAdmin || a.author == me.id)
}

/// Announcements `me` sees whose title or text match `q`, best first (offline: the document is
/// on the device), as (id, title, excerpt).
pub fn search(repo: RepoRef, me: &qiao_model::api::Me, dept: &str, q: &str) -> Vec<(String, String, String)> {
    use qiao_model::search::{Entry, Index, Query};
    let all = repo.with_value(|r| r.read_untracked(ann::document_id(), ann::list)).unwrap_or_default();
    let mut index = Index::new();
    for a in all.iter().filter(|a| visible_to(a, me, dept)) {
        index.upsert(Entry {
            id: a.id.clone(),
            channel: qiao_model::ids::ChannelId(String::new()),
            author: a.author,
            author_name: String::new(),
            ts: a.ts,
            // A title match counts three times, as for pages.
            text: format!("{t}\n{t}\n{t}\n{}", a.body, t = a.title),
        });
    }
    let hits = index.search(&Query { text: q.to_string(), limit: 10, ..Default::default() });
    hits.into_iter()
        .filter_map(|h| all.iter().find(|a| a.id == h.entry.id))
        .map(|a| (a.id.clone(), a.title.clone(), qiao_model::markdown::excerpt(&a.body, 80)))
        .collect()
}

/// My department, from the directory.
pub fn my_dept(me: UserId) -> Option<String> {
    let people = expect_people();
    people.list.with(|l| l.iter().find(|u| u.id == me).and_then(|u| u.department.as_ref().map(|d| d.0.clone())))
}

#[component]
pub fn AnnouncementsPage(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let people = expect_people();
    let me = expect_session().me.get_untracked().expect("logged in");
    let my_id = me.id;
    let dept = Memo::new(move |_| {
        people.list.with(|l| l.iter().find(|u| u.id == my_id).and_then(|u| u.department.as_ref().map(|d| d.0.clone())))
    });
    let actor = Memo::new(move |_| Actor { role: me.role, dept: dept.get().map(qiao_model::ids::DeptId) });
    let can_publish = Memo::new(move |_| {
        let a = actor.get();
        acl::publish_announcement(&a, a.dept.as_ref()).is_ok()
    });
    let all = Memo::new(move |_| repo.with_value(|r| r.read(ann::document_id(), ann::list)).unwrap_or_default());
    let acks = Memo::new(move |_| repo.with_value(|r| r.read(ann::document_id(), ann::acks)).unwrap_or_default());
    let categories =
        Memo::new(move |_| repo.with_value(|r| r.read(ann::document_id(), ann::categories)).unwrap_or_default());
    let category = RwSignal::new(String::new());
    let composing = RwSignal::new(false);
    // What I may see: everyone's, and my department's.
    let viewer = me.clone();
    let shown = Memo::new(move |_| {
        let d = dept.get().unwrap_or_default();
        let c = category.get();
        all.get()
            .into_iter()
            .filter(|a| visible_to(a, &viewer, &d))
            .filter(|a| c.is_empty() || a.category == c)
            .collect::<Vec<_>>()
    });

    // Opened from search: show that announcement (its category filter cleared), scrolled to and
    // marked for a moment.
    if let Some(Focus(focus)) = use_context::<Focus>() {
        Effect::new(move |_| {
            let Some(id) = focus.get() else { return };
            category.set(String::new());
            request_animation_frame(move || {
                let el = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.query_selector(&format!("[data-ann-id=\"{id}\"]")).ok().flatten());
                if let Some(el) = el {
                    el.scroll_into_view();
                    let _ = el.class_list().add_1("ann-focus");
                }
                focus.set(None);
            });
        });
    }

    view! {
        <header class="chat-header">
            <button class="sidebar-toggle icon-btn" aria-label=move || i18n.t("sidebar.open_menu") data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title">{move || i18n.t("ann.title")}</h2>
            <span class="spacer"></span>
            <Show when=move || can_publish.get()>
                <button class="btn btn-primary btn-sm" data-testid="ann-new" on:click=move |_| composing.set(true)>
                    {move || i18n.t("ann.new")}
                </button>
            </Show>
        </header>
        <div class="ann-page">
            <div class="ann-filters" role="tablist">
                <button class="chip-filter" data-testid="ann-cat-all" aria-selected=move || category.with(|c| c.is_empty()).to_string()
                    on:click=move |_| category.set(String::new())>{move || i18n.t("ann.all")}</button>
                <For each=move || categories.get() key=|c| c.clone() children=move |c| {
                    let (c1, c2, c3) = (c.clone(), c.clone(), c.clone());
                    view! {
                        <button class="chip-filter" data-testid="ann-cat" data-category=c1
                            aria-selected=move || (category.get() == c2).to_string()
                            on:click=move |_| category.set(c3.clone())>{c.clone()}</button>
                    }
                } />
            </div>
            <Show when=move || composing.get()>
                <Compose open=composing dept=dept actor=actor categories=categories />
            </Show>
            <Show when=move || shown.with(|s| s.is_empty())>
                <div class="empty-state">
                    <h3>{move || i18n.t("ann.empty_title")}</h3>
                    <p>{move || i18n.t(if can_publish.get() { "ann.empty_body_publisher" } else { "ann.empty_body" })}</p>
                </div>
            </Show>
            <ul class="ann-list">
                <For each=move || shown.get() key=|a| format!("{a:?}") children=move |a: Announcement| {
                    let id = a.id.clone();
                    let id2 = a.id.clone();
                    let id3 = a.id.clone();
                    let acked = Memo::new(move |_| acks.with(|m| m.get(&id).is_some_and(|u| u.contains_key(&my_id))));
                    let manage = a.author == my_id || me.role == Role::SuperAdmin;
                    let show_reads = RwSignal::new(false);
                    let a_dept = a.dept.clone();
                    let recipients = Memo::new(move |_| {
                        people.list.with(|l| {
                            l.iter()
                                .filter(|u| a_dept.is_empty() || u.department.as_ref().is_some_and(|d| d.0 == a_dept))
                                .map(|u| u.id)
                                .collect::<Vec<_>>()
                        })
                    });
                    let reads = Memo::new(move |_| {
                        let r = recipients.get();
                        repo.with_value(|rp| rp.read(ann::document_id(), |d| ann::read_list(d, &id2, &r))).unwrap_or_default()
                    });
                    let body_html = qiao_model::markdown::render(&a.body);
                    let pinned = a.pinned;
                    let id_pin = a.id.clone();
                    view! {
                        <li class="ann-card" class:ann-pinned=a.pinned data-testid="ann-item" data-title=a.title.clone() data-ann-id=a.id.clone()>
                            <div class="ann-head">
                                {a.pinned.then(|| view! { <span class="chip chip-label">{i18n.t("ann.pinned")}</span> })}
                                {(!a.category.is_empty()).then(|| view! { <span class="chip">{a.category.clone()}</span> })}
                                <h3 class="ann-title">{a.title.clone()}</h3>
                            </div>
                            <div class="ann-meta muted">
                                {a.author_name.clone()} " · " {format_time(a.ts)}
                                {(!a.dept.is_empty()).then(|| format!(" · {}", i18n.t("ann.for_dept")))}
                            </div>
                            <div class="ann-body markdown" inner_html=body_html></div>
                            <div class="ann-actions">
                                {a.must_read.then(|| view! {
                                    <Show when=move || !acked.get() fallback=move || view! { <span class="chip chip-ok" data-testid="ann-acked">"✓ " {i18n.t("ann.acked")}</span> }>
                                        {
                                            let id = id3.clone();
                                            view! {
                                                <button class="btn btn-primary btn-sm" data-testid="ann-ack" on:click=move |_| {
                                                    let id = id.clone();
                                                    repo.with_value(|r| r.change(ann::document_id(), |d| ann::acknowledge(d, &id, my_id, now_ms())));
                                                }>{i18n.t("ann.ack")}</button>
                                            }
                                        }
                                    </Show>
                                })}
                                {(manage && a.must_read).then(|| view! {
                                    <button class="btn btn-ghost btn-sm" data-testid="ann-reads" on:click=move |_| show_reads.update(|s| *s = !*s)>
                                        {move || reads.with(|(r, n)| i18n.tf("ann.read_count", &[("read", r.len().to_string()), ("total", (r.len() + n.len()).to_string())]))}
                                    </button>
                                })}
                                {manage.then(|| view! {
                                    <button class="btn btn-ghost btn-sm" data-testid="ann-pin" on:click=move |_| {
                                        let id = id_pin.clone();
                                        repo.with_value(|r| r.change(ann::document_id(), |d| ann::set_pinned(d, &id, !pinned, now_ms())));
                                    }>{i18n.t(if pinned { "ann.unpin" } else { "ann.pin" })}</button>
                                })}
                            </div>
                            <Show when=move || show_reads.get()>
                                <div class="ann-reads" data-testid="ann-read-list">
                                    <div>
                                        <h4>{move || i18n.t("ann.read")}</h4>
                                        <ul>{move || reads.get().0.into_iter().map(|(u, ts)| view! {
                                            <li data-testid="ann-reader">{people.name_of(u).unwrap_or_default()} <span class="muted">{format_time(ts)}</span></li>
                                        }).collect_view()}</ul>
                                    </div>
                                    <div>
                                        <h4>{move || i18n.t("ann.not_read")}</h4>
                                        <ul>{move || reads.get().1.into_iter().map(|u| view! {
                                            <li data-testid="ann-non-reader">{people.name_of(u).unwrap_or_default()}</li>
                                        }).collect_view()}</ul>
                                    </div>
                                </div>
                            </Show>
                        </li>
                    }
                } />
            </ul>
        </div>
    }
}

#[component]
fn Compose(
    open: RwSignal<bool>,
    dept: Memo<Option<String>>,
    actor: Memo<Actor>,
    categories: Memo<Vec<String>>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let me = expect_session().me.get_untracked().expect("logged in");
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let pinned = RwSignal::new(false);
    let must_read = RwSignal::new(true);
    // Super admins choose; a department admin publishes to their department.
    let to_everyone = RwSignal::new(actor.get_untracked().role == Role::SuperAdmin);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let a = Announcement {
            id: new_id("a"),
            title: title.get_untracked(),
            body: body.get_untracked(),
            category: category.get_untracked(),
            pinned: pinned.get_untracked(),
            must_read: must_read.get_untracked(),
            dept: if to_everyone.get_untracked() { String::new() } else { dept.get_untracked().unwrap_or_default() },
            author: me.id,
            author_name: me.display_name.clone(),
            ts: now_ms(),
            deleted: false,
        };
        match repo.with_value(|r| r.change(ann::document_id(), |d| ann::publish(d, &a, now_ms()))) {
            Some(Ok(())) => open.set(false),
            Some(Err(e)) => error.set(Some(e.to_string())),
            None => error.set(Some(i18n.t("ann.not_ready"))),
        }
    };
    view! {
        <form class="ann-compose" data-testid="ann-compose" on:submit=submit>
            <input class="input" maxlength="120" data-testid="ann-title" placeholder=move || i18n.t("ann.title_placeholder")
                prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
            <textarea class="input" rows="5" data-testid="ann-body" placeholder=move || i18n.t("ann.body_placeholder")
                prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            <div class="ann-compose-row">
                <input class="input input-sm" list="ann-categories" data-testid="ann-category" placeholder=move || i18n.t("ann.category")
                    prop:value=move || category.get() on:input=move |ev| category.set(event_target_value(&ev)) />
                <datalist id="ann-categories">
                    {move || categories.get().into_iter().map(|c| view! { <option value=c></option> }).collect_view()}
                </datalist>
                <label class="checkbox"><input type="checkbox" data-testid="ann-must-read" prop:checked=move || must_read.get()
                    on:change=move |ev| must_read.set(event_target_checked(&ev)) /><span>{move || i18n.t("ann.must_read")}</span></label>
                <label class="checkbox"><input type="checkbox" data-testid="ann-pinned" prop:checked=move || pinned.get()
                    on:change=move |ev| pinned.set(event_target_checked(&ev)) /><span>{move || i18n.t("ann.pin")}</span></label>
                <Show when=move || actor.with(|a| a.role == Role::SuperAdmin)>
                    <label class="checkbox"><input type="checkbox" prop:checked=move || to_everyone.get()
                        on:change=move |ev| to_everyone.set(event_target_checked(&ev)) /><span>{move || i18n.t("ann.to_everyone")}</span></label>
                </Show>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="modal-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>{move || i18n.t("channel.cancel")}</button>
                <button type="submit" class="btn btn-primary" data-testid="ann-publish"
                    disabled=move || title.with(|t| t.trim().is_empty()) || body.with(|b| b.trim().is_empty())
                >{move || i18n.t("ann.publish")}</button>
            </div>
        </form>
    }
}
