//! 转为任务: a chat message becomes a task in one of the person's projects, its title taken from
//! the message and its link pointing back at it (the task panel's "open the message"). It is a
//! local change to the board, so it works offline like any edit.

use super::{expect_projects, new_id, now_ms};
use crate::features::admin::{Page, expect_nav};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::ids::{ChannelId, ProjectId};
use qiao_model::markdown::excerpt;
use qiao_model::schema::tasks::{self, Task};

/// The message a task is being made from.
#[derive(Clone, Debug, PartialEq)]
pub struct FromMessage {
    pub channel: ChannelId,
    pub message: String,
    pub text: String,
}

#[component]
pub fn MakeTaskDialog() -> impl IntoView {
    let i18n = expect_i18n();
    let projects = expect_projects();
    let nav = expect_nav();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let mine = Memo::new(move |_| projects.list.with(|l| l.iter().filter(|p| p.member).cloned().collect::<Vec<_>>()));
    let source = projects.from_message.get_untracked();
    let title = RwSignal::new(source.as_ref().map(|s| excerpt(&s.text, tasks::MAX_TITLE_CHARS)).unwrap_or_default());
    let picked = RwSignal::new(
        projects
            .selected
            .get_untracked()
            .filter(|p| mine.with_untracked(|m| m.iter().any(|x| &x.id == p)))
            .or_else(|| mine.with_untracked(|m| m.first().map(|p| p.id.clone()))),
    );
    let error = RwSignal::new(None::<String>);
    let close = move || projects.from_message.set(None);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(p), Some(src)) = (picked.get_untracked(), projects.from_message.get_untracked()) else { return };
        let Some(column) = projects.board(&p, |d| tasks::columns(d).first().map(|c| c.id.clone())).flatten() else {
            return;
        };
        let last = projects
            .board(&p, |d| tasks::tasks(d).into_iter().filter(|t| t.column == column).map(|t| t.order).last())
            .flatten();
        let task = Task {
            id: new_id("t"),
            title: title.get_untracked(),
            column,
            order: tasks::order_between(last, None),
            link: format!("chat:{}/{}", src.channel, src.message),
            created_by: me,
            created_at: now_ms(),
            ..Default::default()
        };
        let id = task.id.clone();
        match projects.change(&p, move |d| tasks::create(d, &task, now_ms())) {
            Some(Ok(())) => {
                close();
                nav.page.set(Page::Tasks);
                projects.select(Some(p.clone()));
                projects.open_task.set(Some((p, id)));
            }
            Some(Err(e)) => error.set(Some(e.to_string())),
            None => error.set(Some(i18n.t("tasks.board_not_ready"))),
        }
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <form class="modal" role="dialog" aria-modal="true" data-testid="make-task-dialog"
                on:click=|ev| ev.stop_propagation()
                on:submit=submit
                on:keydown=move |ev| if ev.key() == "Escape" { close() }
            >
                <h3 class="modal-title">{move || i18n.t("tasks.from_message")}</h3>
                <div class="modal-body">
                    <Show
                        when=move || mine.with(|m| !m.is_empty())
                        fallback=move || view! {
                            <p class="muted">{move || i18n.t("tasks.from_message_no_project")}</p>
                        }
                    >
                        <label class="field">
                            <span class="field-label">{move || i18n.t("tasks.field.title")}</span>
                            <input class="input" maxlength="200" autofocus data-testid="make-task-title"
                                prop:value=move || title.get()
                                on:input=move |ev| title.set(event_target_value(&ev))
                            />
                        </label>
                        <label class="field">
                            <span class="field-label">{move || i18n.t("tasks.projects")}</span>
                            <select class="select" data-testid="make-task-project"
                                on:change=move |ev| picked.set(Some(ProjectId(event_target_value(&ev))))
                            >
                                {move || mine.get().into_iter().map(|p| {
                                    let sel = picked.get_untracked().as_ref() == Some(&p.id);
                                    view! { <option value=p.id.to_string() selected=sel>{p.name.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    </Show>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| close()>{move || i18n.t("channel.cancel")}</button>
                    <button type="submit" class="btn btn-primary" data-testid="make-task-create"
                        disabled=move || mine.with(|m| m.is_empty()) || title.with(|t| t.trim().is_empty())
                    >{move || i18n.t("tasks.create_task")}</button>
                </div>
            </form>
        </div>
    }
}
