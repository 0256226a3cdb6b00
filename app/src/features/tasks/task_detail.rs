//! One task in a panel on the right (full screen on a phone): every field, the checklist, the
//! comments, and the history read from the board's changes. Each edit is one change to the
//! board, written locally first (offline too). Non-members see it all read-only.

use super::{
    Projects, column_name, expect_projects, format_due, from_input_value, initial, new_id, now_ms, person_name,
    to_input_value,
};
use crate::features::admin::format_time;
use crate::i18n::{I18n, expect_i18n};
use leptos::prelude::*;
use qiao_model::ids::{ProjectId, UserId};
use qiao_model::schema::tasks::{self, Edit, HistoryEntry};

/// Reminder choices: minutes before the due time (`None`: a time of one's own).
const REMIND_BEFORE: [(i64, &str); 4] = [(0, "at_due"), (15, "15m"), (60, "1h"), (1440, "1d")];

fn edit(projects: Projects, project: &ProjectId, id: &str, e: Edit) {
    let id = id.to_string();
    projects.change(project, move |d| tasks::edit(d, &id, e, now_ms()));
}

fn history_line(
    i18n: I18n,
    projects: Projects,
    project: &ProjectId,
    h: &HistoryEntry,
    cols: &[tasks::Column],
) -> String {
    let who = h.user.map(|u| person_name(projects, project, u)).unwrap_or_default();
    let value = match h.field.as_str() {
        "column" => cols.iter().find(|c| c.id == h.value).map(|c| column_name(i18n, c)).unwrap_or(h.value.clone()),
        "due" | "remind_at" => match h.value.parse::<i64>() {
            Ok(ms) if ms > 0 => format_due(i18n, ms),
            _ => i18n.t("tasks.none"),
        },
        "priority" => h
            .value
            .parse::<usize>()
            .ok()
            .and_then(|p| tasks::PRIORITIES.get(p))
            .map(|p| i18n.t(&format!("tasks.priority.{p}")))
            .unwrap_or_default(),
        "assignees" => h
            .value
            .split(' ')
            .filter_map(|x| {
                let (sign, id) = x.split_at_checked(1)?;
                let name = person_name(projects, project, UserId(id.parse().ok()?));
                Some(format!("{sign}{name}"))
            })
            .collect::<Vec<_>>()
            .join(" "),
        "deleted" => String::new(),
        _ => h.value.clone(),
    };
    let key = match h.field.as_str() {
        f @ ("created" | "title" | "description" | "column" | "priority" | "due" | "remind_at" | "assignees"
        | "labels" | "checklist" | "comment" | "link" | "order") => format!("tasks.history.{f}"),
        f if f.starts_with("file:") => "tasks.history.file".into(),
        "deleted" if h.value == "true" => "tasks.history.deleted".into(),
        "deleted" => "tasks.history.restored".into(),
        _ => "tasks.history.other".into(),
    };
    i18n.tf(&key, &[("who", who), ("value", value), ("field", h.field.clone())])
}

#[component]
pub fn TaskDetail(project: ProjectId, task_id: String) -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let editable = projects.summary(&project).map(|p| p.member).unwrap_or(false);
    // The relay lets the project's owner and admins remove anyone's comment (tasks::validate).
    let moderates = projects.summary(&project).is_some_and(|p| p.owner == me)
        || crate::contexts::expect_session()
            .me
            .get_untracked()
            .is_some_and(|m| m.role != qiao_model::acl::Role::Employee);
    let (p, tid) = (project.clone(), task_id.clone());
    let task = Memo::new(move |_| projects.board(&p, |d| tasks::task(d, &tid)).flatten());
    let p = project.clone();
    let columns = Memo::new(move |_| projects.board(&p, |d| tasks::columns(d)).unwrap_or_default());
    let (p, tid) = (project.clone(), task_id.clone());
    let comments = Memo::new(move |_| projects.board(&p, |d| tasks::comments(d, &tid)).unwrap_or_default());
    let show_history = RwSignal::new(false);
    let (p, tid) = (project.clone(), task_id.clone());
    // History walks every change of the board: only while it is shown.
    let history = Memo::new(move |_| {
        if !show_history.get() {
            return Vec::new();
        }
        let p2 = p.clone();
        let tid = tid.clone();
        projects
            .repo
            .with_value(|r| r.read(tasks::board_id(&p2), |d| tasks::history(&mut d.clone(), &tid)))
            .unwrap_or_default()
    });
    let comment_text = RwSignal::new(String::new());
    let check_text = RwSignal::new(String::new());
    let label_text = RwSignal::new(String::new());
    let close = move || projects.open_task.set(None);

    let pid = project.clone();
    let tid = task_id.clone();
    let set = move |e: Edit| edit(projects, &pid, &tid, e);
    let members = {
        let p = project.clone();
        Memo::new(move |_| projects.members.with(|m| m.get(&p).cloned().unwrap_or_default()))
    };

    let (p, tid) = (project.clone(), task_id.clone());
    let send_comment = move || {
        let text = comment_text.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let (tid, nonce) = (tid.clone(), new_id(""));
        projects.change(&p, move |d| tasks::add_comment(d, &tid, me, &text, &nonce, now_ms()));
        comment_text.set(String::new());
    };
    let set_check = set.clone();
    let add_check = move || {
        let text = check_text.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let last = task.with_untracked(|t| t.as_ref().and_then(|t| t.checklist.last().map(|c| c.order)));
        set_check(Edit::CheckAdd { id: new_id("i"), text, order: tasks::order_between(last, None) });
        check_text.set(String::new());
    };
    let set_label = set.clone();
    let add_label = move || {
        let l = label_text.get_untracked();
        if !l.trim().is_empty() {
            set_label(Edit::Label(l, true));
        }
        label_text.set(String::new());
    };

    let p_status = project.clone();
    let p_body = project.clone();
    let (p_files, tid_files) = (project.clone(), task_id.clone());
    let body = move || {
        let p_status = p_status.clone();
        let Some(t) = task.get() else {
            return view! { <p class="muted panel-pad">{i18n.t("tasks.task_missing")}</p> }.into_any();
        };
        let set = set.clone();
        let (s1, s2, s3, s4, s5, s6, s7, s8, s9, s10) = (
            set.clone(),
            set.clone(),
            set.clone(),
            set.clone(),
            set.clone(),
            set.clone(),
            set.clone(),
            set.clone(),
            set.clone(),
            set.clone(),
        );
        let due = t.due;
        let remind_choice = match (t.due, t.remind_at) {
            (_, None) => "none".to_string(),
            (Some(d), Some(r)) => REMIND_BEFORE
                .iter()
                .find(|(m, _)| d - m * 60_000 == r)
                .map(|(_, k)| k.to_string())
                .unwrap_or_else(|| "custom".into()),
            (None, Some(_)) => "custom".into(),
        };
        let custom = remind_choice == "custom";
        let p_names = p_body.clone();
        let assigned = t.assignees.clone();
        let assigned2 = t.assignees.clone();
        let link = t.link.clone();
        view! {
            <div class="task-detail-body">
                <input
                    class="task-title-input"
                    data-testid="task-title"
                    maxlength="200"
                    disabled=!editable
                    prop:value=t.title.clone()
                    on:change=move |ev| s1(Edit::Title(event_target_value(&ev)))
                    on:keydown=|ev| if ev.key() == "Enter" { ev.prevent_default(); if let Some(el) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok()) { let _ = el.blur(); } }
                />
                <dl class="task-fields">
                    <dt>{i18n.t("tasks.field.status")}</dt>
                    <dd>
                        <select class="select select-sm" data-testid="task-status" disabled=!editable
                            on:change=move |ev| {
                                let col = event_target_value(&ev);
                                let last = projects.board(&p_status, |d| tasks::tasks(d).into_iter().filter(|x| x.column == col).map(|x| x.order).last()).flatten();
                                s2(Edit::Move(col, tasks::order_between(last, None)));
                            }
                        >
                            {columns.get().into_iter().map(|c| {
                                let selected = c.id == t.column;
                                view! { <option value=c.id.clone() selected=selected>{column_name(i18n, &c)}</option> }
                            }).collect_view()}
                        </select>
                    </dd>
                    <dt>{i18n.t("tasks.field.assignees")}</dt>
                    <dd class="task-assignees">
                        {assigned.iter().map(|u| {
                            let u = *u;
                            let name = person_name(projects, &p_names, u);
                            let s = s3.clone();
                            view! {
                                <span class="chip chip-person" data-testid="assignee-chip">
                                    <span class="avatar avatar-xs">{initial(&name)}</span>
                                    {name.clone()}
                                    {editable.then(|| view! {
                                        <button class="chip-remove" aria-label=i18n.t("tasks.unassign") on:click=move |_| s(Edit::Assign(u, false))>"×"</button>
                                    })}
                                </span>
                            }
                        }).collect_view()}
                        {editable.then(|| {
                            let s = s4.clone();
                            view! {
                                <select class="select select-sm" data-testid="task-assign"
                                    on:change=move |ev| {
                                        if let Ok(id) = event_target_value(&ev).parse::<i64>() {
                                            s(Edit::Assign(UserId(id), true));
                                        }
                                    }
                                >
                                    <option value="" selected=true>{i18n.t("tasks.assign")}</option>
                                    {members.get().into_iter().filter(|m| !assigned2.contains(&m.id)).map(|m| {
                                        view! { <option value=m.id.0.to_string()>{m.display_name.clone()}</option> }
                                    }).collect_view()}
                                </select>
                                {move || members.with(|m| m.is_empty()).then(|| view! { <span class="muted">{i18n.t("tasks.members_offline")}</span> })}
                            }
                        })}
                        {(assigned.is_empty() && !editable).then(|| view! { <span class="muted">{i18n.t("tasks.none")}</span> })}
                    </dd>
                    <dt>{i18n.t("tasks.field.due")}</dt>
                    <dd>
                        <input type="datetime-local" class="input input-sm" data-testid="task-due-input" disabled=!editable
                            prop:value=t.due.map(to_input_value).unwrap_or_default()
                            on:change=move |ev| s5(Edit::Due(from_input_value(&event_target_value(&ev))))
                        />
                    </dd>
                    <dt>{i18n.t("tasks.field.reminder")}</dt>
                    <dd class="task-reminder">
                        <select class="select select-sm" data-testid="task-remind" disabled=!editable
                            on:change=move |ev| {
                                let v = event_target_value(&ev);
                                let at = match v.as_str() {
                                    "none" => None,
                                    "custom" => Some(now_ms() + 3_600_000),
                                    k => REMIND_BEFORE.iter().find(|(_, key)| *key == k).and_then(|(m, _)| due.map(|d| d - m * 60_000)),
                                };
                                s6(Edit::RemindAt(at));
                            }
                        >
                            <option value="none" selected=remind_choice == "none">{i18n.t("tasks.remind.none")}</option>
                            {REMIND_BEFORE.iter().map(|(_, k)| {
                                let sel = remind_choice == *k;
                                view! { <option value=*k selected=sel disabled=due.is_none()>{i18n.t(&format!("tasks.remind.{k}"))}</option> }
                            }).collect_view()}
                            <option value="custom" selected=custom>{i18n.t("tasks.remind.custom")}</option>
                        </select>
                        {custom.then(|| {
                            let s = s7.clone();
                            view! {
                                <input type="datetime-local" class="input input-sm" data-testid="task-remind-at" disabled=!editable
                                    prop:value=t.remind_at.map(to_input_value).unwrap_or_default()
                                    on:change=move |ev| s(Edit::RemindAt(from_input_value(&event_target_value(&ev))))
                                />
                            }
                        })}
                    </dd>
                    <dt>{i18n.t("tasks.field.priority")}</dt>
                    <dd>
                        <select class="select select-sm" data-testid="task-priority" disabled=!editable
                            on:change=move |ev| s8(Edit::Priority(event_target_value(&ev).parse().unwrap_or(0)))
                        >
                            {tasks::PRIORITIES.iter().enumerate().map(|(i, k)| {
                                view! { <option value=i.to_string() selected=i == t.priority as usize>{i18n.t(&format!("tasks.priority.{k}"))}</option> }
                            }).collect_view()}
                        </select>
                    </dd>
                    <dt>{i18n.t("tasks.field.labels")}</dt>
                    <dd class="task-labels">
                        {t.labels.iter().map(|l| {
                            let s = s9.clone();
                            let l2 = l.clone();
                            view! {
                                <span class="chip chip-label">{l.clone()}
                                    {editable.then(|| view! { <button class="chip-remove" on:click=move |_| s(Edit::Label(l2.clone(), false))>"×"</button> })}
                                </span>
                            }
                        }).collect_view()}
                        {editable.then(|| { let add_label = add_label.clone(); view! {
                            <input class="input input-sm task-label-input" data-testid="task-label-input" maxlength="40"
                                placeholder=i18n.t("tasks.add_label")
                                prop:value=move || label_text.get()
                                on:input=move |ev| label_text.set(event_target_value(&ev))
                                on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); add_label() }
                            />
                        }})}
                    </dd>
                    {(!link.is_empty()).then(|| view! {
                        <dt>{i18n.t("tasks.field.link")}</dt>
                        <dd><LinkView link=link.clone() /></dd>
                    })}
                </dl>
                <label class="field">
                    <span class="field-label">{i18n.t("tasks.field.description")}</span>
                    <textarea class="input task-description" data-testid="task-description" rows="4" disabled=!editable
                        placeholder=i18n.t("tasks.description_placeholder")
                        prop:value=t.description.clone()
                        on:change=move |ev| s10(Edit::Description(event_target_value(&ev)))
                    ></textarea>
                </label>
                <section class="task-section">
                    <h4>{i18n.t("tasks.checklist")} {(!t.checklist.is_empty()).then(|| format!(" {}/{}", t.checklist.iter().filter(|c| c.done).count(), t.checklist.len()))}</h4>
                    <ul class="checklist" data-testid="checklist">
                        {t.checklist.iter().map(|c| {
                            let (s, s2) = (set.clone(), set.clone());
                            let (id, id2, done) = (c.id.clone(), c.id.clone(), c.done);
                            view! {
                                <li class="checklist-item" class:done=c.done data-testid="checklist-item">
                                    <label class="checkbox">
                                        <input type="checkbox" disabled=!editable prop:checked=c.done on:change=move |_| s(Edit::CheckDone(id.clone(), !done)) />
                                        <span>{c.text.clone()}</span>
                                    </label>
                                    {editable.then(|| view! { <button class="icon-btn icon-btn-sm" aria-label=i18n.t("tasks.remove") on:click=move |_| s2(Edit::CheckRemove(id2.clone()))>"×"</button> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {editable.then(|| { let add_check = add_check.clone(); view! {
                        <input class="input input-sm" data-testid="checklist-input" placeholder=i18n.t("tasks.add_check")
                            prop:value=move || check_text.get()
                            on:input=move |ev| check_text.set(event_target_value(&ev))
                            on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); add_check() }
                        />
                    }})}
                </section>
                <super::attachments::TaskFiles project=p_files.clone() task_id=tid_files.clone() files=t.attachments.clone() editable=editable />
            </div>
        }
        .into_any()
    };

    let p_comments = project.clone();
    let p_hist = project.clone();
    let p_del = project.clone();
    let tid_del = task_id.clone();
    view! {
        <aside class="task-panel" data-testid="task-panel" role="dialog" aria-label=move || i18n.t("tasks.task")
            on:keydown=move |ev| if ev.key() == "Escape" { close() }
        >
            <header class="task-panel-header">
                <span class="muted">{move || projects.summary(&project).map(|p| p.name).unwrap_or_default()}</span>
                <span class="spacer"></span>
                {editable.then(|| view! {
                    <button class="btn btn-ghost btn-sm btn-danger-text" data-testid="task-delete"
                        on:click=move |_| {
                            let ok = web_sys::window().and_then(|w| w.confirm_with_message(&i18n.t("tasks.delete_confirm")).ok()).unwrap_or(false);
                            if ok {
                                edit(projects, &p_del, &tid_del, Edit::Deleted(true));
                                close();
                            }
                        }
                    >{i18n.t("tasks.delete")}</button>
                })}
                <button class="icon-btn" data-testid="task-close" aria-label=move || i18n.t("tasks.close") on:click=move |_| close()>"×"</button>
            </header>
            <div class="task-panel-scroll">
                {body}
                <section class="task-section">
                    <h4>{move || i18n.t("tasks.comments")}</h4>
                    <Show when=move || comments.with(|c| c.is_empty())>
                        <p class="muted">{move || i18n.t("tasks.no_comments")}</p>
                    </Show>
                    <ul class="task-comments">
                        <For each=move || comments.get() key=|c| c.key.clone() children=move |c| {
                            let name = person_name(projects, &p_comments, c.author);
                            view! {
                                <li class="task-comment" data-testid="task-comment">
                                    <span class="avatar avatar-sm">{initial(&name)}</span>
                                    <div>
                                        <div class="task-comment-head">
                                            <strong>{name}</strong>
                                            <span class="muted">{format_time(c.ts)}</span>
                                            {(editable && (c.author == me || moderates)).then(|| {
                                                let (p, key) = (p_comments.clone(), c.key.clone());
                                                view! {
                                                    <button class="icon-btn icon-btn-sm task-comment-remove" data-testid="task-comment-remove"
                                                        title=i18n.t("tasks.remove_comment") aria-label=i18n.t("tasks.remove_comment")
                                                        on:click=move |_| {
                                                            let key = key.clone();
                                                            projects.change(&p, move |d| tasks::remove_comment(d, &key, now_ms()));
                                                        }
                                                    >"×"</button>
                                                }
                                            })}
                                        </div>
                                        <p class="task-comment-text">{c.text.clone()}</p>
                                    </div>
                                </li>
                            }
                        } />
                    </ul>
                    <Show when=move || editable>
                        {
                            let send_comment = send_comment.clone();
                            view! {
                                <div class="task-comment-compose">
                                    <textarea class="input" rows="2" data-testid="task-comment-input"
                                        placeholder=move || i18n.t("tasks.comment_placeholder")
                                        prop:value=move || comment_text.get()
                                        on:input=move |ev| comment_text.set(event_target_value(&ev))
                                        on:keydown={
                                            let send_comment = send_comment.clone();
                                            move |ev| if ev.key() == "Enter" && !ev.shift_key() { ev.prevent_default(); send_comment() }
                                        }
                                    ></textarea>
                                    <button class="btn btn-primary btn-sm" data-testid="task-comment-send" on:click=move |_| send_comment()>
                                        {move || i18n.t("tasks.comment_send")}
                                    </button>
                                </div>
                            }
                        }
                    </Show>
                </section>
                <section class="task-section">
                    <button class="btn btn-ghost btn-sm" data-testid="task-history-toggle" on:click=move |_| show_history.update(|s| *s = !*s)>
                        {move || i18n.t(if show_history.get() { "tasks.hide_history" } else { "tasks.show_history" })}
                    </button>
                    <Show when=move || show_history.get()>
                        <ol class="task-history" data-testid="task-history">
                            {let p_hist = p_hist.clone(); move || {
                                let cols = columns.get();
                                history.get().into_iter().rev().map(|h| {
                                    let line = history_line(i18n, projects, &p_hist, &h, &cols);
                                    view! {
                                        <li data-testid="history-entry" data-field=h.field.clone()>
                                            <span class="muted">{format_time(h.ts * 1000)}</span>
                                            " " {line}
                                        </li>
                                    }
                                }).collect_view()
                            }}
                        </ol>
                    </Show>
                </section>
            </div>
        </aside>
    }
}

/// Where a task came from: a chat message opens its conversation; a web address opens.
#[component]
fn LinkView(link: String) -> impl IntoView {
    let i18n = expect_i18n();
    if let Some(rest) = link.strip_prefix("chat:") {
        let channel = rest.split('/').next().unwrap_or_default().to_string();
        let channels = use_context::<crate::features::chat::shell::Channels>();
        let nav = crate::features::admin::expect_nav();
        return view! {
            <button class="btn btn-ghost btn-sm" data-testid="task-link" on:click=move |_| {
                if let Some(c) = channels {
                    c.select(qiao_model::ids::ChannelId(channel.clone()));
                }
                nav.page.set(crate::features::admin::Page::Chat);
            }>{i18n.t("tasks.open_message")}</button>
        }
        .into_any();
    }
    if qiao_model::markdown::safe_url(&link) {
        view! { <a href=link.clone() target="_blank" rel="noopener noreferrer">{link.clone()}</a> }.into_any()
    } else {
        view! { <span>{link}</span> }.into_any()
    }
}
