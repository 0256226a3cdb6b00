//! Surveys (问卷), the feedback page's second tab.
//!
//! The surveys themselves are one synced document ([`qiao_model::schema::surveys`]), opened at
//! start so they read offline: admins build a survey here (super admins for anyone, department
//! admins for their own department; the relay checks every operation), and everyone sees the
//! surveys addressed to their department with a "not answered yet" badge.
//!
//! Answers are not in the document: they go to the relay by REST, which enforces the audience,
//! the close date and one answer per person, and keeps an anonymous survey's answers apart from
//! who gave them. So that an answer given offline is not lost, submitting puts it in an outbox
//! (localStorage, per account) that is sent now if the relay is reachable and retried every few
//! seconds until it is; a refusal (closed meanwhile) stays in the outbox with its reason until
//! the person discards it. What is being typed is kept as a draft per survey too.
//!
//! Results — counts per option, the rating distribution and average, the free-text answers and
//! the response rate — are fetched from the relay (author and super admins only) and drawn as
//! horizontal CSS bars; the CSV comes straight from the relay.

use crate::api::{self, ApiFailure};
use crate::contexts::{RepoRef, expect_repo, expect_session};
use crate::features::admin::format_time;
use crate::features::tasks::{new_id, now_ms};
use crate::i18n::expect_i18n;
use crate::storage::queue::{Queue, Queued, Sent};
use leptos::prelude::*;
use qiao_model::acl::{Actor, Role};
use qiao_model::api::Department;
use qiao_model::ids::{DeptId, UserId};
use qiao_model::schema::directory;
use qiao_model::schema::surveys::{self as sv, Answer, Question, QuestionKind, SubmitAnswers, Survey, SurveyResults};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// --- the outbox ---------------------------------------------------------------------------------

/// An answer waiting to reach the relay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub survey: String,
    pub answers: Vec<Answer>,
    /// The relay refused it (closed meanwhile, no longer addressed): shown, kept until discarded.
    #[serde(default)]
    pub error: Option<String>,
}

/// The outbox and what the relay says this person has answered, shared by the tab and the
/// sender that runs from start.
#[derive(Clone, Copy)]
pub struct SurveyState {
    pub outbox: Queue<Pending>,
    pub answered: RwSignal<Vec<String>>,
    me: UserId,
}

impl Queued for Pending {
    fn id(&self) -> String {
        self.survey.clone()
    }
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    fn set_error(&mut self, why: String) {
        self.error = Some(why);
    }
}

fn outbox_key(me: UserId) -> String {
    format!("qiao.surveys.outbox.{}", me.0)
}

fn answered_key(me: UserId) -> String {
    format!("qiao.surveys.answered.{}", me.0)
}

fn draft_key(me: UserId, survey: &str) -> String {
    format!("qiao.surveys.draft.{}.{survey}", me.0)
}

impl SurveyState {
    fn save(&self) {
        crate::storage::set_json(&answered_key(self.me), &self.answered.get_untracked());
    }

    fn mark_answered(&self, survey: &str) {
        self.outbox.discard(survey);
        self.answered.update(|a| {
            if !a.iter().any(|s| s == survey) {
                a.push(survey.to_string());
            }
        });
        self.save();
    }

    /// Put an answer in the outbox (replacing an earlier one to the same survey) and try to
    /// send it.
    fn submit(self, survey: String, answers: Vec<Answer>) {
        self.outbox.push(Pending { survey, answers, error: None });
        leptos::task::spawn_local(async move { self.flush().await });
    }

    fn discard(&self, survey: &str) {
        self.outbox.discard(survey);
    }

    async fn refresh_answered(self) {
        if let Ok(list) = api::get::<Vec<String>>("/api/surveys/answered").await {
            self.answered.set(list);
            self.save();
        }
    }

    /// Send what waits, oldest first; stop at the first sign of being offline.
    async fn flush(self) {
        self.outbox
            .flush(|p: Pending| async move {
                let path = format!("/api/surveys/{}/answers", p.survey);
                match api::post_no_content(&path, &SubmitAnswers { answers: p.answers.clone() }).await {
                    Ok(()) => {
                        self.mark_answered(&p.survey);
                        Sent::Taken
                    }
                    Err(ApiFailure::Offline | ApiFailure::Unauthorized) => Sent::Later,
                    Err(ApiFailure::Refused(e)) => {
                        // A 409 may mean an earlier send arrived but its reply did not: ask.
                        self.refresh_answered().await;
                        if self.answered.get_untracked().contains(&p.survey) {
                            self.mark_answered(&p.survey);
                            Sent::Taken
                        } else {
                            Sent::Refused(e.message)
                        }
                    }
                }
            })
            .await;
    }
}

/// Open the surveys document (at start, so it reads offline), provide [`SurveyState`] and send
/// the outbox whenever the relay is reachable.
pub fn provide(repo: RepoRef) {
    let Some(me) = expect_session().me.get_untracked() else { return };
    let r = repo.get_value();
    leptos::task::spawn_local(async move {
        r.open(sv::document_id(), sv::genesis).await;
    });
    let state = SurveyState {
        outbox: Queue::load(outbox_key(me.id)),
        answered: RwSignal::new(crate::storage::get_json(&answered_key(me.id)).unwrap_or_default()),
        me: me.id,
    };
    provide_context(state);
    leptos::task::spawn_local(async move {
        state.refresh_answered().await;
        while state.outbox.alive() {
            if state.outbox.waiting() && crate::storage::is_online() {
                state.flush().await;
            }
            crate::storage::sleep_ms(3_000).await;
        }
    });
}

/// `dept` and its parents, from the directory's departments.
fn chain_of(depts: &[Department], dept: Option<&DeptId>) -> Vec<DeptId> {
    let mut out: Vec<DeptId> = Vec::new();
    let mut at = dept.cloned();
    while let Some(d) = at.take() {
        if out.contains(&d) || out.len() > 64 {
            break;
        }
        at = depts.iter().find(|x| x.id == d).and_then(|x| x.parent.clone());
        out.push(d);
    }
    out
}

// --- the tab ------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum View {
    List,
    Build,
    Answer(String),
    Results(String),
}

#[derive(Clone, Copy, PartialEq)]
enum Filter {
    All,
    Todo,
    Mine,
}

#[component]
pub fn SurveysTab() -> impl IntoView {
    let repo = expect_repo();
    let state = expect_context::<SurveyState>();
    let me = expect_session().me.get_untracked().expect("logged in");
    let view_at = RwSignal::new(View::List);
    let notice = RwSignal::new(None::<String>);
    let directory =
        Memo::new(move |_| repo.with_value(|r| r.read(directory::document_id(), directory::read)).unwrap_or_default());
    let my_dept = Memo::new(move |_| {
        directory.with(|(_, users)| users.iter().find(|u| u.id == me.id).and_then(|u| u.department.clone()))
    });
    let chain = Memo::new(move |_| directory.with(|(d, _)| chain_of(d, my_dept.get().as_ref())));
    leptos::task::spawn_local(async move { state.refresh_answered().await });

    view! {
        <div class="sv-page" data-testid="surveys">
            {move || match view_at.get() {
                View::List => view! { <SurveyList view_at notice chain my_dept /> }.into_any(),
                View::Build => view! { <Builder view_at notice my_dept directory=Signal::derive(move || directory.get().0) /> }.into_any(),
                View::Answer(id) => view! { <AnswerForm id view_at notice /> }.into_any(),
                View::Results(id) => view! { <Results id view_at directory=Signal::derive(move || directory.get().0) /> }.into_any(),
            }}
        </div>
    }
}

fn audience_label(i18n: crate::i18n::I18n, s: &Survey, depts: &[Department]) -> String {
    if s.depts.is_empty() {
        return i18n.t("sv.everyone");
    }
    s.depts
        .iter()
        .map(|d| depts.iter().find(|x| &x.id == d).map(|x| x.path.clone()).unwrap_or_else(|| d.0.clone()))
        .collect::<Vec<_>>()
        .join("、")
}

fn day(ms: i64) -> String {
    format_time(ms).chars().take(16).collect()
}

#[component]
fn SurveyList(
    view_at: RwSignal<View>,
    notice: RwSignal<Option<String>>,
    chain: Memo<Vec<DeptId>>,
    my_dept: Memo<Option<DeptId>>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let state = expect_context::<SurveyState>();
    let me = expect_session().me.get_untracked().expect("logged in");
    let is_admin = me.role != Role::Employee;
    let filter = RwSignal::new(Filter::All);
    let all = Memo::new(move |_| repo.with_value(|r| r.read(sv::document_id(), sv::list)).unwrap_or_default());
    let departments = Memo::new(move |_| {
        repo.with_value(|r| r.read(directory::document_id(), |d| directory::read(d).0)).unwrap_or_default()
    });
    let manages = move |s: &Survey| s.may_see_results(me.id, me.role);
    let todo = move |s: &Survey| {
        s.addressed_to(&chain.get())
            && s.is_open(now_ms())
            && !state.answered.with(|a| a.contains(&s.id))
            && !state.outbox.items.with(|o| o.iter().any(|p| p.survey == s.id))
    };
    let shown = Memo::new(move |_| {
        let f = filter.get();
        all.get()
            .into_iter()
            .filter(|s| s.addressed_to(&chain.get()) || manages(s))
            .filter(|s| match f {
                Filter::All => true,
                Filter::Todo => todo(s),
                Filter::Mine => s.author == me.id,
            })
            .collect::<Vec<_>>()
    });
    let todo_count = Memo::new(move |_| all.get().iter().filter(|s| todo(s)).count());
    // Super admins address anyone; a department admin their own department (the builder says which).
    let may_build = {
        let depts: Vec<DeptId> = my_dept.get_untracked().into_iter().collect();
        let actor = Actor { role: me.role, dept: my_dept.get_untracked() };
        sv::may_create(&actor, if me.role == Role::SuperAdmin { &[] } else { &depts }).is_ok()
    };

    view! {
        <div class="sv-toolbar">
            <div class="ann-filters sv-filters" role="tablist">
                <button class="chip-filter" role="tab" data-testid="sv-filter-all" aria-selected=move || (filter.get() == Filter::All).to_string()
                    on:click=move |_| filter.set(Filter::All)>{move || i18n.t("sv.filter_all")}</button>
                <button class="chip-filter" role="tab" data-testid="sv-filter-todo" aria-selected=move || (filter.get() == Filter::Todo).to_string()
                    on:click=move |_| filter.set(Filter::Todo)>
                    {move || i18n.t("sv.filter_todo")}
                    <Show when=move || { todo_count.get() > 0 }>
                        <span class="sv-count" data-testid="sv-todo-count">{move || todo_count.get()}</span>
                    </Show>
                </button>
                {is_admin.then(|| view! {
                    <button class="chip-filter" role="tab" data-testid="sv-filter-mine" aria-selected=move || (filter.get() == Filter::Mine).to_string()
                        on:click=move |_| filter.set(Filter::Mine)>{move || i18n.t("sv.filter_mine")}</button>
                })}
            </div>
            <span class="spacer"></span>
            {may_build.then(|| view! {
                <button class="btn btn-primary btn-sm" data-testid="sv-new" on:click=move |_| { notice.set(None); view_at.set(View::Build) }>
                    {move || i18n.t("sv.new")}
                </button>
            })}
        </div>
        {move || notice.get().map(|n| view! {
            <div class="sv-notice" role="status" data-testid="sv-notice">
                <span>{n}</span>
                <button class="btn btn-ghost btn-sm" aria-label=move || i18n.t("sv.dismiss") on:click=move |_| notice.set(None)>"×"</button>
            </div>
        })}
        <Show when=move || shown.with(|s| s.is_empty())>
            <div class="empty-state" data-testid="sv-empty">
                <h3>{move || i18n.t(if filter.get() == Filter::Todo { "sv.empty_todo_title" } else { "sv.empty_title" })}</h3>
                <p>{move || i18n.t(if is_admin { "sv.empty_body_admin" } else { "sv.empty_body" })}</p>
            </div>
        </Show>
        <ul class="ann-list sv-list">
            <For each=move || shown.get() key=|s| format!("{s:?}") children=move |s: Survey| {
                let id = s.id.clone();
                let (id_a, id_r, id_c, id_d, id_x) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
                let open = s.is_open(now_ms());
                let addressed = Memo::new({
                    let s = s.clone();
                    move |_| s.addressed_to(&chain.get())
                });
                let answered = Memo::new({
                    let id = id.clone();
                    move |_| state.answered.with(|a| a.contains(&id))
                });
                let pending = Memo::new({
                    let id = id.clone();
                    move |_| state.outbox.items.with(|o| o.iter().find(|p| p.survey == id).cloned())
                });
                let manage = manages(&s);
                let audience = {
                    let s = s.clone();
                    move || departments.with(|d| audience_label(i18n, &s, d))
                };
                let can_answer = move || open && addressed.get() && !answered.get() && pending.with(|p| p.is_none());
                view! {
                    <li class="ann-card sv-card" data-testid="sv-card" data-id=s.id.clone() data-title=s.title.clone()>
                        <div class="ann-head">
                            <h3 class="ann-title">{s.title.clone()}</h3>
                            {move || {
                                let (label, class, test) = if pending.with(|p| p.as_ref().is_some_and(|p| p.error.is_some())) {
                                    ("sv.badge_refused", "chip sv-chip-danger", "sv-badge-refused")
                                } else if pending.with(|p| p.is_some()) {
                                    ("sv.badge_pending", "chip sv-chip-info", "sv-badge-pending")
                                } else if answered.get() {
                                    ("sv.badge_done", "chip chip-ok", "sv-badge-done")
                                } else if !open {
                                    ("sv.badge_closed", "chip", "sv-badge-closed")
                                } else if addressed.get() {
                                    ("sv.badge_todo", "chip sv-chip-warn", "sv-badge-todo")
                                } else {
                                    ("sv.badge_open", "chip", "sv-badge-open")
                                };
                                view! { <span class=class data-testid=test>{i18n.t(label)}</span> }
                            }}
                            {s.anonymous.then(|| view! { <span class="chip chip-label" data-testid="sv-anon-chip">{i18n.t("sv.anonymous")}</span> })}
                        </div>
                        <div class="ann-meta muted">
                            {s.author_name.clone()} " · " {day(s.ts)} " · " {audience}
                            {(s.close_at > 0).then(|| format!(" · {} {}", i18n.t("sv.closes"), day(s.close_at)))}
                            " · " {i18n.tf("sv.n_questions", &[("n", s.questions.len().to_string())])}
                        </div>
                        {(!s.description.is_empty()).then(|| view! { <p class="sv-desc">{s.description.clone()}</p> })}
                        {move || pending.get().and_then(|p| p.error).map(|e| {
                            let id = id_d.clone();
                            view! {
                                <div class="form-error sv-refused" role="alert">
                                    <span>{e}</span>
                                    <button class="btn btn-ghost btn-sm" on:click=move |_| state.discard(&id)>{i18n.t("sv.discard")}</button>
                                </div>
                            }
                        })}
                        <div class="ann-actions">
                            <Show when=can_answer>
                                {
                                    let id = id_a.clone();
                                    view! {
                                        <button class="btn btn-primary btn-sm" data-testid="sv-answer"
                                            on:click=move |_| { notice.set(None); view_at.set(View::Answer(id.clone())) }>{move || i18n.t("sv.answer")}</button>
                                    }
                                }
                            </Show>
                            {manage.then(|| {
                                let id = id_r.clone();
                                view! {
                                    <button class="btn btn-secondary btn-sm" data-testid="sv-results"
                                        on:click=move |_| { notice.set(None); view_at.set(View::Results(id.clone())) }>{move || i18n.t("sv.results")}</button>
                                }
                            })}
                            {(manage && open).then(|| {
                                let id = id_c.clone();
                                view! {
                                    <button class="btn btn-ghost btn-sm" data-testid="sv-close" on:click=move |_| {
                                        let ok = web_sys::window()
                                            .and_then(|w| w.confirm_with_message(&i18n.t("sv.close_confirm")).ok())
                                            .unwrap_or(false);
                                        if ok {
                                            let id = id.clone();
                                            repo.with_value(|r| r.change(sv::document_id(), |d| sv::close(d, &id, now_ms())));
                                        }
                                    }>{move || i18n.t("sv.close")}</button>
                                }
                            })}
                            {manage.then(|| {
                                let id = id_x.clone();
                                view! {
                                    <button class="btn btn-ghost btn-sm btn-danger-text" data-testid="sv-delete" on:click=move |_| {
                                        let ok = web_sys::window()
                                            .and_then(|w| w.confirm_with_message(&i18n.t("sv.delete_confirm")).ok())
                                            .unwrap_or(false);
                                        if ok {
                                            let id = id.clone();
                                            repo.with_value(|r| r.change(sv::document_id(), |d| sv::delete(d, &id, now_ms())));
                                        }
                                    }>{move || i18n.t("sv.delete")}</button>
                                }
                            })}
                        </div>
                    </li>
                }
            } />
        </ul>
    }
}

// --- building a survey --------------------------------------------------------------------------

/// A question being written: a signal per field, so typing does not rebuild the list.
#[derive(Clone)]
struct QDraft {
    key: String,
    kind: QuestionKind,
    title: RwSignal<String>,
    required: RwSignal<bool>,
    options: RwSignal<Vec<(String, RwSignal<String>)>>,
}

impl QDraft {
    fn new(kind: QuestionKind) -> Self {
        let options = match kind {
            QuestionKind::Single | QuestionKind::Multiple => {
                vec![(new_id("o"), RwSignal::new(String::new())), (new_id("o"), RwSignal::new(String::new()))]
            }
            _ => Vec::new(),
        };
        QDraft {
            key: new_id("q"),
            kind,
            title: RwSignal::new(String::new()),
            required: RwSignal::new(true),
            options: RwSignal::new(options),
        }
    }

    fn question(&self) -> Question {
        Question {
            id: self.key.clone(),
            kind: self.kind,
            title: self.title.get_untracked().trim().to_string(),
            required: self.required.get_untracked(),
            options: self.options.get_untracked().iter().map(|(_, o)| o.get_untracked().trim().to_string()).collect(),
        }
    }
}

fn kind_label(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Single => "sv.kind_single",
        QuestionKind::Multiple => "sv.kind_multiple",
        QuestionKind::Rating => "sv.kind_rating",
        QuestionKind::Text => "sv.kind_text",
    }
}

/// The end of the day `date` ("YYYY-MM-DD") in local time, in ms; `None` when empty or invalid.
fn end_of_day(date: &str) -> Option<i64> {
    if date.is_empty() {
        return None;
    }
    let t = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&format!("{date}T23:59:59"))).get_time();
    (!t.is_nan()).then_some(t as i64)
}

#[component]
fn Builder(
    view_at: RwSignal<View>,
    notice: RwSignal<Option<String>>,
    my_dept: Memo<Option<DeptId>>,
    directory: Signal<Vec<Department>>,
) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let me = expect_session().me.get_untracked().expect("logged in");
    let is_super = me.role == Role::SuperAdmin;
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let anonymous = RwSignal::new(false);
    let everyone = RwSignal::new(is_super);
    let chosen = RwSignal::new(Vec::<DeptId>::new());
    let close_date = RwSignal::new(String::new());
    let questions = RwSignal::new(vec![QDraft::new(QuestionKind::Single)]);
    let error = RwSignal::new(None::<String>);

    let publish = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let qs: Vec<Question> = questions.get_untracked().iter().map(QDraft::question).collect();
        let depts = if is_super {
            if everyone.get_untracked() { Vec::new() } else { chosen.get_untracked() }
        } else {
            my_dept.get_untracked().into_iter().collect()
        };
        if is_super && !everyone.get_untracked() && depts.is_empty() {
            error.set(Some(i18n.t("sv.err_audience")));
            return;
        }
        if !is_super && depts.is_empty() {
            error.set(Some(i18n.t("sv.err_no_dept")));
            return;
        }
        let close_at = end_of_day(&close_date.get_untracked()).unwrap_or(0);
        if close_at != 0 && close_at <= now_ms() {
            error.set(Some(i18n.t("sv.err_close_past")));
            return;
        }
        let s = Survey {
            id: new_id("v"),
            title: title.get_untracked(),
            description: description.get_untracked(),
            questions: qs,
            depts,
            anonymous: anonymous.get_untracked(),
            close_at,
            closed: false,
            author: me.id,
            author_name: me.display_name.clone(),
            ts: now_ms(),
            deleted: false,
        };
        if let Err(e) = sv::check_definition(&s.title, &s.description, &s.questions) {
            error.set(Some(e.to_string()));
            return;
        }
        match repo.with_value(|r| r.change(sv::document_id(), |d| sv::publish(d, &s, now_ms()))) {
            Some(Ok(())) => {
                notice.set(Some(i18n.t("sv.published")));
                view_at.set(View::List);
            }
            Some(Err(e)) => error.set(Some(e.to_string())),
            None => error.set(Some(i18n.t("sv.not_ready"))),
        }
    };
    let add = move |kind: QuestionKind| questions.update(|q| q.push(QDraft::new(kind)));

    view! {
        <form class="sv-builder" data-testid="sv-builder" on:submit=publish>
            <div class="sv-view-head">
                <button type="button" class="btn btn-ghost btn-sm" data-testid="sv-back" on:click=move |_| view_at.set(View::List)>
                    "← " {move || i18n.t("sv.back")}
                </button>
                <h3>{move || i18n.t("sv.new")}</h3>
            </div>
            <section class="sv-section">
                <label class="sv-label" for="sv-title">{move || i18n.t("sv.title_label")}</label>
                <input id="sv-title" class="input" maxlength="120" data-testid="sv-title" placeholder=move || i18n.t("sv.title_placeholder")
                    prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
                <label class="sv-label" for="sv-desc">{move || i18n.t("sv.desc_label")}</label>
                <textarea id="sv-desc" class="input" rows="2" maxlength="2000" data-testid="sv-desc" placeholder=move || i18n.t("sv.desc_placeholder")
                    prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))></textarea>
            </section>
            <section class="sv-section">
                <div class="sv-label">{move || i18n.t("sv.audience")}</div>
                {if is_super {
                    view! {
                        <label class="checkbox"><input type="checkbox" data-testid="sv-everyone" prop:checked=move || everyone.get()
                            on:change=move |ev| everyone.set(event_target_checked(&ev)) /><span>{move || i18n.t("sv.everyone")}</span></label>
                        <Show when=move || !everyone.get()>
                            <div class="sv-depts" data-testid="sv-depts">
                                {move || directory.get().into_iter().map(|d| {
                                    let (id1, id2) = (d.id.clone(), d.id.clone());
                                    view! {
                                        <label class="checkbox"><input type="checkbox" data-testid="sv-dept" data-path=d.path.clone()
                                            prop:checked=move || chosen.with(|c| c.contains(&id1))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                let id = id2.clone();
                                                chosen.update(|c| { c.retain(|x| *x != id); if on { c.push(id) } });
                                            } /><span>{d.path.clone()}</span></label>
                                    }
                                }).collect_view()}
                            </div>
                        </Show>
                    }.into_any()
                } else {
                    view! {
                        <p class="muted sv-fixed-audience">{move || {
                            let d = my_dept.get();
                            let name = directory.with(|all| d.as_ref().and_then(|d| all.iter().find(|x| &x.id == d)).map(|x| x.path.clone()));
                            i18n.tf("sv.own_dept", &[("dept", name.unwrap_or_default())])
                        }}</p>
                    }.into_any()
                }}
                <div class="sv-options-row">
                    <label class="checkbox"><input type="checkbox" data-testid="sv-anonymous" prop:checked=move || anonymous.get()
                        on:change=move |ev| anonymous.set(event_target_checked(&ev)) /><span>{move || i18n.t("sv.anonymous_label")}</span></label>
                    <label class="sv-inline">
                        <span>{move || i18n.t("sv.close_date")}</span>
                        <input type="date" class="input input-sm" data-testid="sv-close-date"
                            prop:value=move || close_date.get() on:input=move |ev| close_date.set(event_target_value(&ev)) />
                    </label>
                </div>
                <Show when=move || anonymous.get()>
                    <p class="sv-hint" data-testid="sv-anon-hint">{move || i18n.t("sv.anonymous_hint")}</p>
                </Show>
            </section>
            <ol class="sv-questions">
                <For each=move || questions.get() key=|q| q.key.clone() children=move |q: QDraft| {
                    let key = q.key.clone();
                    let kind = q.kind;
                    let choice = matches!(kind, QuestionKind::Single | QuestionKind::Multiple);
                    let (title, required, options) = (q.title, q.required, q.options);
                    let index = {
                        let key = key.clone();
                        move || questions.with(|qs| qs.iter().position(|x| x.key == key).map(|i| i + 1).unwrap_or(0))
                    };
                    let remove = {
                        let key = key.clone();
                        move |_| questions.update(|qs| qs.retain(|x| x.key != key))
                    };
                    view! {
                        <li class="sv-qcard" data-testid="sv-q" data-kind=format!("{kind:?}").to_lowercase()>
                            <div class="sv-qhead">
                                <span class="sv-qnum">{index}</span>
                                <span class="chip">{move || i18n.t(kind_label(kind))}</span>
                                <span class="spacer"></span>
                                <label class="checkbox"><input type="checkbox" data-testid="sv-q-required" prop:checked=move || required.get()
                                    on:change=move |ev| required.set(event_target_checked(&ev)) /><span>{move || i18n.t("sv.required")}</span></label>
                                <button type="button" class="btn btn-ghost btn-sm" data-testid="sv-q-remove"
                                    disabled=move || questions.with(|q| q.len() <= 1) on:click=remove>{move || i18n.t("sv.remove")}</button>
                            </div>
                            <input class="input" maxlength="300" data-testid="sv-q-title" placeholder=move || i18n.t("sv.q_placeholder")
                                prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
                            {choice.then(|| view! {
                                <ul class="sv-opt-edit">
                                    <For each=move || options.get() key=|(k, _)| k.clone() children=move |(k, o): (String, RwSignal<String>)| {
                                        view! {
                                            <li>
                                                <span class=if kind == QuestionKind::Single { "sv-mark sv-mark-radio" } else { "sv-mark sv-mark-box" }></span>
                                                <input class="input input-sm" maxlength="100" data-testid="sv-q-option"
                                                    placeholder=move || i18n.t("sv.option_placeholder")
                                                    prop:value=move || o.get() on:input=move |ev| o.set(event_target_value(&ev)) />
                                                <button type="button" class="btn btn-ghost btn-sm" aria-label=move || i18n.t("sv.remove")
                                                    disabled=move || options.with(|x| x.len() <= 2)
                                                    on:click=move |_| { let k = k.clone(); options.update(|x| x.retain(|(kk, _)| *kk != k)) }>"×"</button>
                                            </li>
                                        }
                                    } />
                                </ul>
                                <button type="button" class="btn btn-ghost btn-sm sv-add-option" data-testid="sv-q-add-option"
                                    disabled=move || options.with(|x| x.len() >= sv::MAX_OPTIONS)
                                    on:click=move |_| options.update(|x| x.push((new_id("o"), RwSignal::new(String::new()))))>
                                    "+ " {move || i18n.t("sv.add_option")}
                                </button>
                            })}
                            {(kind == QuestionKind::Rating).then(|| view! { <div class="sv-stars sv-stars-preview" aria-hidden="true">"★★★★★"</div> })}
                        </li>
                    }
                } />
            </ol>
            <div class="sv-add-row">
                <span class="muted">{move || i18n.t("sv.add_question")}</span>
                <button type="button" class="btn btn-secondary btn-sm" data-testid="sv-add-single" on:click=move |_| add(QuestionKind::Single)>{move || i18n.t("sv.kind_single")}</button>
                <button type="button" class="btn btn-secondary btn-sm" data-testid="sv-add-multiple" on:click=move |_| add(QuestionKind::Multiple)>{move || i18n.t("sv.kind_multiple")}</button>
                <button type="button" class="btn btn-secondary btn-sm" data-testid="sv-add-rating" on:click=move |_| add(QuestionKind::Rating)>{move || i18n.t("sv.kind_rating")}</button>
                <button type="button" class="btn btn-secondary btn-sm" data-testid="sv-add-text" on:click=move |_| add(QuestionKind::Text)>{move || i18n.t("sv.kind_text")}</button>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="sv-error">{e}</p> })}
            <div class="modal-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| view_at.set(View::List)>{move || i18n.t("sv.cancel")}</button>
                <button type="submit" class="btn btn-primary" data-testid="sv-publish"
                    disabled=move || title.with(|t| t.trim().is_empty())>{move || i18n.t("sv.publish")}</button>
            </div>
        </form>
    }
}

// --- answering ----------------------------------------------------------------------------------

#[component]
fn AnswerForm(id: String, view_at: RwSignal<View>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let state = expect_context::<SurveyState>();
    let me = expect_session().me.get_untracked().expect("logged in");
    let Some(survey) = repo.with_value(|r| r.read_untracked(sv::document_id(), |d| sv::get(d, &id))).flatten() else {
        return view! { <div class="empty-state"><h3>{i18n.t("sv.missing")}</h3></div> }.into_any();
    };
    let draft_at = draft_key(me.id, &survey.id);
    let answers: RwSignal<BTreeMap<String, Answer>> =
        RwSignal::new(crate::storage::get_json(&draft_at).unwrap_or_default());
    // Keep what is typed: a draft per survey, until it is submitted.
    Effect::new({
        let draft_at = draft_at.clone();
        move |_| answers.with(|a| crate::storage::set_json(&draft_at, a))
    });
    let error = RwSignal::new(None::<String>);
    let s2 = survey.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let given: Vec<Answer> = answers.get_untracked().into_values().collect();
        match sv::check_answers(&s2, &given) {
            Err(e) => error.set(Some(e.to_string())),
            Ok(clean) => {
                state.submit(s2.id.clone(), clean);
                crate::storage::remove(&draft_at);
                let online = crate::storage::is_online();
                notice.set(Some(i18n.t(if online { "sv.submitted" } else { "sv.queued" })));
                view_at.set(View::List);
            }
        }
    };
    let questions = survey.questions.clone();
    view! {
        <form class="sv-answer" data-testid="sv-answer-form" on:submit=submit novalidate=true>
            <div class="sv-view-head">
                <button type="button" class="btn btn-ghost btn-sm" data-testid="sv-back" on:click=move |_| view_at.set(View::List)>
                    "← " {move || i18n.t("sv.back")}
                </button>
            </div>
            <header class="sv-answer-head">
                <h3>{survey.title.clone()}</h3>
                {(!survey.description.is_empty()).then(|| view! { <p class="sv-desc">{survey.description.clone()}</p> })}
                {survey.anonymous.then(|| view! { <p class="sv-hint" data-testid="sv-anon-note">{i18n.t("sv.anonymous_note")}</p> })}
            </header>
            <ol class="sv-questions">
                {questions.into_iter().enumerate().map(|(i, q)| {
                    let qid = q.id.clone();
                    let body = match q.kind {
                        QuestionKind::Single | QuestionKind::Multiple => {
                            let multiple = q.kind == QuestionKind::Multiple;
                            q.options.iter().enumerate().map(|(n, o)| {
                                let n = n as u32;
                                let (q1, q2) = (qid.clone(), qid.clone());
                                view! {
                                    <label class="sv-choice">
                                        <input type=if multiple { "checkbox" } else { "radio" } name=format!("sv-{qid}") data-testid="sv-opt"
                                            prop:checked=move || answers.with(|a| a.get(&q1).is_some_and(|x| x.choices.contains(&n)))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                let q = q2.clone();
                                                answers.update(|a| {
                                                    let e = a.entry(q.clone()).or_insert_with(|| Answer { question: q, ..Default::default() });
                                                    if multiple {
                                                        e.choices.retain(|c| *c != n);
                                                        if on { e.choices.push(n); e.choices.sort_unstable(); }
                                                    } else if on {
                                                        e.choices = vec![n];
                                                    }
                                                });
                                            } />
                                        <span>{o.clone()}</span>
                                    </label>
                                }
                            }).collect_view().into_any()
                        }
                        QuestionKind::Rating => {
                            let q0 = qid.clone();
                            let current = Memo::new(move |_| answers.with(|a| a.get(&q0).and_then(|x| x.rating).unwrap_or(0)));
                            view! {
                                <div class="sv-stars" role="radiogroup" aria-label=q.title.clone()>
                                    {(1..=5u8).map(|v| {
                                        let q = qid.clone();
                                        view! {
                                            <button type="button" role="radio" class="sv-star" data-testid="sv-star" data-value=v.to_string()
                                                aria-checked=move || (current.get() == v).to_string()
                                                aria-label=v.to_string()
                                                class:sv-star-on=move || { current.get() >= v }
                                                on:click=move |_| {
                                                    let q = q.clone();
                                                    answers.update(|a| { a.insert(q.clone(), Answer { question: q, rating: Some(v), ..Default::default() }); });
                                                }>"★"</button>
                                        }
                                    }).collect_view()}
                                    <span class="muted sv-star-value">{move || match current.get() { 0 => String::new(), v => format!("{v} / 5") }}</span>
                                </div>
                            }.into_any()
                        }
                        QuestionKind::Text => {
                            let (q1, q2) = (qid.clone(), qid.clone());
                            view! {
                                <textarea class="input" rows="3" maxlength="5000" data-testid="sv-text" placeholder=move || i18n.t("sv.text_placeholder")
                                    prop:value=move || answers.with(|a| a.get(&q1).and_then(|x| x.text.clone()).unwrap_or_default())
                                    on:input=move |ev| {
                                        let t = event_target_value(&ev);
                                        let q = q2.clone();
                                        answers.update(|a| { a.insert(q.clone(), Answer { question: q, text: Some(t), ..Default::default() }); });
                                    }></textarea>
                            }.into_any()
                        }
                    };
                    view! {
                        <li class="sv-qcard" data-testid="sv-question">
                            <div class="sv-qtitle">
                                <span class="sv-qnum">{i + 1}</span>
                                <span>{q.title.clone()}</span>
                                {q.required.then(|| view! { <span class="sv-req" title=i18n.t("sv.required")>"*"</span> })}
                                {(q.kind == QuestionKind::Multiple).then(|| view! { <span class="muted sv-qkind">{i18n.t("sv.kind_multiple")}</span> })}
                            </div>
                            <div class="sv-qbody">{body}</div>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="sv-error">{e}</p> })}
            <div class="modal-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| view_at.set(View::List)>{move || i18n.t("sv.cancel")}</button>
                <button type="submit" class="btn btn-primary" data-testid="sv-submit">{move || i18n.t("sv.submit")}</button>
            </div>
        </form>
    }
    .into_any()
}

// --- results ------------------------------------------------------------------------------------

fn pct(n: u32, of: u32) -> f64 {
    if of == 0 { 0.0 } else { n as f64 * 100.0 / of as f64 }
}

/// One horizontal bar: label, track with its fill, count and share.
fn bar(label: String, n: u32, of: u32) -> impl IntoView {
    let p = pct(n, of);
    view! {
        <div class="sv-bar" data-testid="sv-bar" data-label=label.clone() data-count=n.to_string()>
            <span class="sv-bar-label" title=label.clone()>{label.clone()}</span>
            <span class="sv-bar-track"><span class="sv-bar-fill" style=format!("width: {p:.1}%")></span></span>
            <span class="sv-bar-num">{n} <span class="muted">{format!(" {p:.0}%")}</span></span>
        </div>
    }
}

#[component]
fn Results(id: String, view_at: RwSignal<View>, directory: Signal<Vec<Department>>) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let survey = Memo::new({
        let id = id.clone();
        move |_| repo.with_value(|r| r.read(sv::document_id(), |d| sv::get(d, &id))).flatten()
    });
    let path = format!("/api/surveys/{id}/results");
    let results = LocalResource::new(move || {
        let path = path.clone();
        async move { api::get::<SurveyResults>(&path).await }
    });
    let csv = format!("/api/surveys/{id}/results.csv");
    view! {
        <div class="sv-results" data-testid="sv-results-view">
            <div class="sv-view-head">
                <button type="button" class="btn btn-ghost btn-sm" data-testid="sv-back" on:click=move |_| view_at.set(View::List)>
                    "← " {move || i18n.t("sv.back")}
                </button>
                <span class="spacer"></span>
                <button type="button" class="btn btn-ghost btn-sm" data-testid="sv-refresh" on:click=move |_| results.refetch()>{move || i18n.t("sv.refresh")}</button>
                <a class="btn btn-secondary btn-sm" data-testid="sv-csv" href=csv download="">{move || i18n.t("sv.csv")}</a>
            </div>
            {move || survey.get().map(|s| view! {
                <header class="sv-answer-head">
                    <h3>{s.title.clone()}</h3>
                    <p class="muted ann-meta">
                        {s.author_name.clone()} " · " {day(s.ts)} " · " {directory.with(|d| audience_label(i18n, &s, d))}
                        {s.anonymous.then(|| format!(" · {}", i18n.t("sv.anonymous")))}
                        {(!s.is_open(now_ms())).then(|| format!(" · {}", i18n.t("sv.badge_closed")))}
                    </p>
                </header>
            })}
            {move || match (results.get(), survey.get()) {
                (None, _) => view! { <p class="muted">{i18n.t("sv.loading")}</p> }.into_any(),
                (_, None) => view! { <div class="empty-state"><h3>{i18n.t("sv.missing")}</h3></div> }.into_any(),
                (Some(Err(ApiFailure::Offline)), _) => view! {
                    <div class="empty-state"><h3>{i18n.t("sv.results_offline")}</h3><p>{i18n.t("sv.results_offline_body")}</p></div>
                }.into_any(),
                (Some(Err(e)), _) => view! { <p class="form-error" role="alert">{e.message()}</p> }.into_any(),
                (Some(Ok(r)), Some(s)) => {
                    let rate = r.response_rate() * 100.0;
                    view! {
                        <section class="sv-summary" data-testid="sv-summary">
                            <div class="sv-stat">
                                <span class="sv-stat-num" data-testid="sv-responses">{r.responses}</span>
                                <span class="muted">{i18n.t("sv.responses")}</span>
                            </div>
                            <div class="sv-stat sv-stat-wide">
                                <span class="sv-stat-num" data-testid="sv-rate">{format!("{rate:.0}%")}</span>
                                <span class="muted" data-testid="sv-rate-detail">{i18n.tf("sv.rate_detail", &[("n", r.answered_targeted.to_string()), ("of", r.targeted.to_string())])}</span>
                                <span class="sv-bar-track sv-rate-track"><span class="sv-bar-fill" style=format!("width: {rate:.1}%")></span></span>
                            </div>
                        </section>
                        <ol class="sv-questions">
                            {s.questions.iter().zip(r.questions.iter()).enumerate().map(|(i, (q, res))| {
                                let body = match q.kind {
                                    QuestionKind::Single | QuestionKind::Multiple => {
                                        // Shares of the people who answered this question (a multiple choice adds up to more than 100%).
                                        q.options.iter().zip(res.counts.iter()).map(|(o, n)| bar(o.clone(), *n, res.answered)).collect_view().into_any()
                                    }
                                    QuestionKind::Rating => {
                                        let total: u32 = res.ratings.iter().sum();
                                        view! {
                                            <div class="sv-average">
                                                <span class="sv-stat-num" data-testid="sv-average">{res.average.map(|a| format!("{a:.1}")).unwrap_or_else(|| "–".into())}</span>
                                                <span class="muted">" / 5"</span>
                                            </div>
                                            {(1..=5usize).rev().map(|v| bar(format!("{} {v}", "★"), res.ratings[v - 1], total)).collect_view()}
                                        }.into_any()
                                    }
                                    QuestionKind::Text => {
                                        if res.texts.is_empty() {
                                            view! { <p class="muted">{i18n.t("sv.no_text")}</p> }.into_any()
                                        } else {
                                            view! {
                                                <ul class="sv-texts">
                                                    {res.texts.iter().map(|t| view! { <li data-testid="sv-text-answer">{t.clone()}</li> }).collect_view()}
                                                </ul>
                                            }.into_any()
                                        }
                                    }
                                };
                                view! {
                                    <li class="sv-qcard" data-testid="sv-result-q" data-kind=format!("{:?}", q.kind).to_lowercase()>
                                        <div class="sv-qtitle">
                                            <span class="sv-qnum">{i + 1}</span>
                                            <span>{q.title.clone()}</span>
                                            <span class="spacer"></span>
                                            <span class="muted sv-qkind">{i18n.tf("sv.answered_n", &[("n", res.answered.to_string())])}</span>
                                        </div>
                                        <div class="sv-qbody">{body}</div>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }
            }}
        </div>
    }
}
