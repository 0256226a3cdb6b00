//! Quick polls in a conversation (投票): the composer's 📊 opens [`PollDialog`], which sends a
//! message whose text is the question and which carries the options
//! ([`qiao_model::schema::chat::Poll`]); [`PollCard`] shows it in the message list with a bar per
//! option, and a click votes. Votes are the voter's own keys in the segment (the relay refuses a
//! vote in another's name), so voting works offline and merges like a reaction.

use super::channel_view::{ChatActions, Segments};
use crate::contexts::expect_repo;
use crate::i18n::expect_i18n;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::Me;
use qiao_model::ids::{DocumentId, UserId};
use qiao_model::schema::chat::{self, ChatMessage, MAX_POLL_OPTION_CHARS, MAX_POLL_OPTIONS, Poll};

/// The dialog that starts a poll in the open conversation.
#[component]
pub fn PollDialog(open: RwSignal<bool>, segments: Segments, me: Me) -> impl IntoView {
    let i18n = expect_i18n();
    let repo = expect_repo();
    let question = RwSignal::new(String::new());
    let options = RwSignal::new(vec![String::new(), String::new()]);
    let multi = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let me = StoredValue::new(me);
    let close = move || {
        open.set(false);
        question.set(String::new());
        options.set(vec![String::new(), String::new()]);
        multi.set(false);
        error.set(None);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = question.get_untracked();
        if q.trim().is_empty() {
            error.set(Some(i18n.t("poll.need_question")));
            return;
        }
        let poll = match Poll::new(options.get_untracked(), multi.get_untracked()) {
            Ok(p) => p,
            Err(_) => {
                error.set(Some(i18n.tf(
                    "poll.bad_options",
                    &[("max", MAX_POLL_OPTIONS.to_string()), ("chars", MAX_POLL_OPTION_CHARS.to_string())],
                )));
                return;
            }
        };
        let repo = repo.get_value();
        leptos::task::spawn_local(async move {
            let Some(id) = segments.writable().await else { return };
            let me = me.get_value();
            let mut msg = ChatMessage::new(storage::random_hex::<8>(), me.id, me.display_name, storage::now_ms(), q);
            msg.poll = Some(poll);
            match repo.change(id, |d| chat::append(d, &msg)) {
                Some(Ok(())) => close(),
                Some(Err(e)) => error.set(Some(e.to_string())),
                None => {}
            }
        });
    };
    let indices = move || (0..options.with(Vec::len)).collect::<Vec<usize>>();
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| close()>
                <form
                    class="modal poll-dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-label=move || i18n.t("poll.title")
                    data-testid="poll-dialog"
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        }
                    }
                    on:submit=submit
                >
                    <h3 class="modal-title">{move || i18n.t("poll.title")}</h3>
                    <div class="modal-body">
                        <label class="field">
                            <span class="field-label">{move || i18n.t("poll.question")}</span>
                            <input
                                class="input"
                                data-testid="poll-question"
                                maxlength="500"
                                autofocus
                                placeholder=move || i18n.t("poll.question_placeholder")
                                prop:value=move || question.get()
                                on:input=move |ev| question.set(event_target_value(&ev))
                            />
                        </label>
                        <div class="field">
                            <span class="field-label">{move || i18n.t("poll.options")}</span>
                            <For
                                each=indices
                                key=|i| *i
                                children=move |i| {
                                    view! {
                                        <div class="poll-option-edit">
                                            <input
                                                class="input"
                                                data-testid="poll-option-input"
                                                maxlength=MAX_POLL_OPTION_CHARS.to_string()
                                                placeholder=move || i18n.tf("poll.option_n", &[("n", (i + 1).to_string())])
                                                prop:value=move || options.with(|o| o.get(i).cloned().unwrap_or_default())
                                                on:input=move |ev| {
                                                    let v = event_target_value(&ev);
                                                    options.update(|o| {
                                                        if let Some(slot) = o.get_mut(i) {
                                                            *slot = v;
                                                        }
                                                    });
                                                }
                                            />
                                            <Show when=move || options.with(|o| o.len() > 2)>
                                                <button
                                                    type="button"
                                                    class="icon-btn"
                                                    title=move || i18n.t("poll.remove_option")
                                                    aria-label=move || i18n.t("poll.remove_option")
                                                    on:click=move |_| options.update(|o| {
                                                        if i < o.len() {
                                                            o.remove(i);
                                                        }
                                                    })
                                                >
                                                    "×"
                                                </button>
                                            </Show>
                                        </div>
                                    }
                                }
                            />
                            <Show when=move || options.with(|o| o.len() < MAX_POLL_OPTIONS)>
                                <button
                                    type="button"
                                    class="btn btn-secondary btn-sm poll-add-option"
                                    data-testid="poll-add-option"
                                    on:click=move |_| options.update(|o| o.push(String::new()))
                                >
                                    {move || i18n.t("poll.add_option")}
                                </button>
                            </Show>
                        </div>
                        <label class="checkbox">
                            <input
                                type="checkbox"
                                data-testid="poll-multi"
                                prop:checked=move || multi.get()
                                on:change=move |ev| multi.set(event_target_checked(&ev))
                            />
                            <span>{move || i18n.t("poll.multi")}</span>
                        </label>
                    </div>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <div class="modal-actions">
                        <button type="button" class="btn btn-secondary" on:click=move |_| close()>
                            {move || i18n.t("channel.cancel")}
                        </button>
                        <button type="submit" class="btn btn-primary" data-testid="poll-create">
                            {move || i18n.t("poll.create")}
                        </button>
                    </div>
                </form>
            </div>
        </Show>
    }
}

/// A poll inside its message: one row per option with its share of the votes; clicking an
/// option votes for it (again: takes the vote back). The author may close it.
#[component]
pub fn PollCard(doc: DocumentId, id: String, poll: Poll, author: UserId, me: UserId) -> impl IntoView {
    let i18n = expect_i18n();
    let actions = expect_context::<ChatActions>();
    let people = super::people::expect_people();
    let id = StoredValue::new(id);
    let voters = poll.voters();
    let most = poll.votes.iter().map(|v| v.len()).max().unwrap_or(0);
    let open = !poll.closed;
    let vote = move |option: usize, on: bool| {
        actions.apply(doc, |d| chat::vote(d, &id.get_value(), option, me, on, storage::now_ms()));
    };
    let rows = poll
        .options
        .iter()
        .zip(&poll.votes)
        .enumerate()
        .map(|(i, (label, who))| {
            let count = who.len();
            let mine = who.contains(&me);
            let leading = count > 0 && count == most;
            let share = if voters == 0 { 0 } else { (count * 100 + voters / 2) / voters };
            let names = who.iter().filter_map(|u| people.name_of(*u)).collect::<Vec<_>>().join("、");
            view! {
                <li>
                    <button
                        type="button"
                        class="poll-option"
                        class:poll-option-mine=mine
                        class:poll-option-leading=leading
                        data-testid="poll-option"
                        data-count=count.to_string()
                        aria-pressed=if mine { "true" } else { "false" }
                        disabled=!open
                        title=names
                        on:click=move |_| vote(i, !mine)
                    >
                        <span class="poll-bar" style=format!("width: {share}%")></span>
                        <span class="poll-check" aria-hidden="true">{if mine { "✓" } else { "" }}</span>
                        <span class="poll-label">{label.clone()}</span>
                        <span class="poll-count">{format!("{count} · {share}%")}</span>
                    </button>
                </li>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="poll" data-testid="poll" data-voters=voters.to_string() data-closed=poll.closed.to_string()>
            <div class="poll-head muted">
                <span class="poll-kind">
                    {move || i18n.t(if poll.multi { "poll.kind_multi" } else { "poll.kind_single" })}
                </span>
                <span>{move || i18n.tf("poll.voters", &[("n", voters.to_string())])}</span>
                {poll.closed.then(|| view! { <span class="badge">{move || i18n.t("poll.closed")}</span> })}
            </div>
            <ul class="poll-options">{rows}</ul>
            {(open && author == me)
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="btn btn-secondary btn-sm"
                            data-testid="poll-close"
                            on:click=move |_| actions.apply(doc, |d| chat::close_poll(d, &id.get_value(), storage::now_ms()))
                        >
                            {move || i18n.t("poll.close")}
                        </button>
                    }
                })}
        </div>
    }
}
