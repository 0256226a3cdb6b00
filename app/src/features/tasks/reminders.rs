//! Task reminders (任务提醒), fired by the app from its local copy of every board: a reminder
//! set offline fires offline. A reminder fires once per device (remembered in local storage by
//! task and time, so moving the time re-arms it), for the task's assignees (its creator when it
//! has none), unless the task is finished or deleted. In the app it is a toast that opens the
//! task; with the window in the background, a system notification as well.
//!
//! Not yet: web push to a closed app (it needs a push service the relay would call).

use super::{Projects, format_due, now_ms};
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::prelude::*;
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks;
use std::collections::BTreeSet;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[derive(Clone, PartialEq)]
pub struct Reminder {
    pub key: String,
    pub project: ProjectId,
    pub task: String,
    pub title: String,
    pub due: Option<i64>,
}

/// Reminders older than this when the app first sees them are not fired (a device back after
/// a month does not ring for every old task).
const STALE_MS: i64 = 7 * 24 * 3_600_000;
const FIRED_KEY: &str = "qiao.reminders_fired";

fn due_now(projects: Projects, me: UserId, now: i64) -> Vec<Reminder> {
    let fired: BTreeSet<String> = storage::get_json(FIRED_KEY).unwrap_or_default();
    let mut out = Vec::new();
    for p in projects.list.get_untracked() {
        let Some(data) = projects.data(&p.id) else { continue };
        let (cols, ts) = &*data;
        for t in ts {
            let Some(at) = t.remind_at else { continue };
            let mine = if t.assignees.is_empty() { t.created_by == me } else { t.assignees.contains(&me) };
            let key = format!("{}|{}|{at}", p.id, t.id);
            if mine && at <= now && at > now - STALE_MS && !tasks::is_done(cols, t) && !fired.contains(&key) {
                out.push(Reminder {
                    key,
                    project: p.id.clone(),
                    task: t.id.clone(),
                    title: t.title.clone(),
                    due: t.due,
                });
            }
        }
    }
    out
}

/// Check every 10 seconds and whenever a board changes; returns the reminders on screen.
pub fn watch(projects: Projects, me: UserId) -> RwSignal<Vec<Reminder>> {
    let shown: RwSignal<Vec<Reminder>> = RwSignal::new(Vec::new());
    let tick = RwSignal::new(0u64);
    let cb = Closure::<dyn FnMut()>::new(move || tick.update(|t| *t += 1));
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(cb.as_ref().unchecked_ref(), 10_000);
    }
    cb.forget();
    let i18n = expect_i18n();
    Effect::new(move |_| {
        tick.track();
        // Track every board: a reminder that arrives by sync, or is set here, is checked at once.
        for p in projects.list.get() {
            let _ = projects.data(&p.id);
        }
        let fresh = due_now(projects, me, now_ms());
        if fresh.is_empty() {
            return;
        }
        let mut fired: BTreeSet<String> = storage::get_json(FIRED_KEY).unwrap_or_default();
        for r in &fresh {
            fired.insert(r.key.clone());
            let focused =
                web_sys::window().and_then(|w| w.document()).map(|d| d.has_focus().unwrap_or(true)).unwrap_or(true);
            if !focused {
                let body =
                    r.due.map(|d| i18n.tf("tasks.reminder_due", &[("due", format_due(i18n, d))])).unwrap_or_default();
                show_system(&i18n.tf("tasks.reminder_title", &[("title", r.title.clone())]), &body, &r.key);
            }
        }
        storage::set_json(FIRED_KEY, &fired);
        shown.update(|s| s.extend(fresh));
    });
    shown
}

fn show_system(title: &str, body: &str, tag: &str) {
    if crate::features::chat::notify::system_permission() != Some(web_sys::NotificationPermission::Granted) {
        return;
    }
    let opts = web_sys::NotificationOptions::new();
    opts.set_body(body);
    opts.set_tag(tag);
    opts.set_icon("/icons/icon-192.png");
    let _ = web_sys::Notification::new_with_options(title, &opts);
}

/// The reminders on screen (bottom right), each opening its task; they stay until dismissed.
#[component]
pub fn ReminderToasts(reminders: RwSignal<Vec<Reminder>>, projects: Projects) -> impl IntoView {
    let i18n = expect_i18n();
    let nav = crate::features::admin::expect_nav();
    view! {
        <div class="reminder-stack" aria-live="assertive">
            <For each=move || reminders.get() key=|r| r.key.clone() children=move |r| {
                let (k1, k2) = (r.key.clone(), r.key.clone());
                let (p, t) = (r.project.clone(), r.task.clone());
                view! {
                    <div class="toast toast-reminder" role="alert" data-testid="task-reminder">
                        <span class="toast-icon" aria-hidden="true">"⏰"</span>
                        <button class="toast-text" on:click=move |_| {
                            nav.page.set(crate::features::admin::Page::Tasks);
                            projects.select(Some(p.clone()));
                            projects.open_task.set(Some((p.clone(), t.clone())));
                            reminders.update(|v| v.retain(|x| x.key != k1));
                        }>
                            <strong>{i18n.tf("tasks.reminder_title", &[("title", r.title.clone())])}</strong>
                            <span class="toast-body">{r.due.map(|d| i18n.tf("tasks.reminder_due", &[("due", format_due(i18n, d))])).unwrap_or_default()}</span>
                        </button>
                        <button class="icon-btn icon-btn-sm" data-testid="reminder-dismiss" aria-label=i18n.t("tasks.close")
                            on:click=move |_| reminders.update(|v| v.retain(|x| x.key != k2))
                        >"×"</button>
                    </div>
                }
            } />
        </div>
    }
}
