//! The page's side panel: comments (everyone who reads the space may comment) and versions
//! (版本: who changed the page and when, from the document's own history; any version can be
//! viewed with its differences to the page now, and restored by an editor — restoring is a new
//! change, so it shows in the history too).

use super::expect_kb;
use super::page::Side;
use crate::features::admin::format_time;
use crate::features::chat::people::expect_people;
use crate::features::tasks::{initial, new_id, now_ms};
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::ids::UserId;
use qiao_model::schema::kb::{self, Block};

/// Consecutive changes by one person within this many seconds are one version.
const GROUP_SECS: i64 = 120;

/// A line diff of two pages' blocks (longest common subsequence of their lines).
fn diff(old: &[Block], new: &[Block]) -> Vec<(char, String)> {
    let a: Vec<String> = old.iter().map(Block::text).collect();
    let b: Vec<String> = new.iter().map(Block::text).collect();
    let (n, m) = (a.len(), b.len());
    let mut l = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if a[i] == b[j] { l[i + 1][j + 1] + 1 } else { l[i + 1][j].max(l[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push((' ', a[i].clone()));
            i += 1;
            j += 1;
        } else if j < m && (i == n || l[i][j + 1] >= l[i + 1][j]) {
            out.push(('+', b[j].clone()));
            j += 1;
        } else {
            out.push(('-', a[i].clone()));
            i += 1;
        }
    }
    out
}

#[component]
pub fn SidePanel(space: String, page: String, editable: bool, which: Side, close: RwSignal<Side>) -> impl IntoView {
    let i18n = expect_i18n();
    let kb = expect_kb();
    let people = expect_people();
    let repo = kb.repo();
    let me = crate::contexts::expect_session().me.get_untracked().map(|m| m.id).unwrap_or_default();
    let doc_id = kb::page_doc_id(&space, &page);
    let name = move |u: Option<UserId>| u.and_then(|u| people.name_of(u)).unwrap_or_else(|| "—".into());
    let comments = Memo::new(move |_| repo.with_value(|r| r.read(doc_id, kb::comments)).unwrap_or_default());
    let versions = Memo::new(move |_| {
        repo.with_value(|r| r.read(doc_id, |d| kb::versions(&mut d.clone(), GROUP_SECS))).unwrap_or_default()
    });
    let viewing = RwSignal::new(None::<usize>);
    let text = RwSignal::new(String::new());
    let send = move || {
        let t = text.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        let nonce = new_id("");
        repo.with_value(|r| r.change(doc_id, |d| kb::add_comment(d, me, &t, &nonce, now_ms())));
        text.set(String::new());
    };

    let comments_view = move || {
        view! {
            <div class="kb-side-body" data-testid="kb-comments">
                <Show when=move || comments.with(|c| c.is_empty())>
                    <p class="muted">{move || i18n.t("kb.no_comments")}</p>
                </Show>
                <ul class="task-comments">
                    <For each=move || comments.get() key=|c| c.key.clone() children=move |c| {
                        let n = name(Some(c.author));
                        view! {
                            <li class="task-comment" data-testid="kb-comment">
                                <span class="avatar avatar-sm">{initial(&n)}</span>
                                <div>
                                    <div class="task-comment-head"><strong>{n.clone()}</strong><span class="muted">{format_time(c.ts)}</span></div>
                                    <p class="task-comment-text">{c.text.clone()}</p>
                                </div>
                            </li>
                        }
                    } />
                </ul>
                <div class="task-comment-compose">
                    <textarea class="input" rows="2" data-testid="kb-comment-input"
                        placeholder=move || i18n.t("kb.comment_placeholder")
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() { ev.prevent_default(); send() }
                    ></textarea>
                    <button class="btn btn-primary btn-sm" data-testid="kb-comment-send" on:click=move |_| send()>{move || i18n.t("tasks.comment_send")}</button>
                </div>
            </div>
        }
    };

    let versions_view = move || {
        view! {
            <div class="kb-side-body" data-testid="kb-versions">
                <ol class="kb-versions">
                    {move || {
                        let vs = versions.get();
                        let n = vs.len();
                        vs.into_iter().enumerate().rev().map(|(i, v)| {
                            let latest = i + 1 == n;
                            view! {
                                <li>
                                    <button class="kb-version" data-testid="kb-version" data-index=i.to_string()
                                        aria-current=move || if viewing.get() == Some(i) { "true" } else { "false" }
                                        on:click=move |_| viewing.set(if viewing.get_untracked() == Some(i) { None } else { Some(i) })
                                    >
                                        <span class="kb-version-who">{name(v.user)}</span>
                                        <span class="muted">{format_time(v.ts * 1000)}</span>
                                        <span class="kb-version-delta">
                                            {(v.inserted > 0).then(|| view! { <span class="delta-add">{format!("+{}", v.inserted)}</span> })}
                                            {(v.deleted > 0).then(|| view! { <span class="delta-del">{format!("−{}", v.deleted)}</span> })}
                                        </span>
                                        {v.restore.then(|| view! { <span class="chip chip-label">{i18n.t("kb.restored")}</span> })}
                                        {latest.then(|| view! { <span class="chip">{i18n.t("kb.current")}</span> })}
                                    </button>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ol>
                {move || viewing.get().and_then(|i| versions.with(|v| v.get(i).cloned())).map(|v| {
                    let heads = v.heads.clone();
                    let (old, now) = repo
                        .with_value(|r| r.read(doc_id, |d| {
                            let mut d = d.clone();
                            (kb::blocks_at(&mut d, &heads), kb::blocks(&d))
                        }))
                        .unwrap_or_default();
                    let lines = diff(&old, &now);
                    let heads2 = v.heads.clone();
                    view! {
                        <section class="kb-version-view" data-testid="kb-version-view">
                            <h4>{i18n.tf("kb.version_of", &[("who", name(v.user)), ("when", format_time(v.ts * 1000))])}</h4>
                            <div class="kb-editor kb-editor-readonly" data-testid="kb-version-content" inner_html=super::editor::to_html(&old)></div>
                            <h4>{move || i18n.t("kb.diff_title")}</h4>
                            <ul class="kb-diff" data-testid="kb-diff">
                                {lines.into_iter().filter(|(k, _)| *k != ' ').map(|(k, t)| view! {
                                    <li class=if k == '+' { "diff-add" } else { "diff-del" }>{format!("{k} {t}")}</li>
                                }).collect_view()}
                            </ul>
                            {editable.then(|| view! {
                                <button class="btn btn-primary btn-sm" data-testid="kb-restore" on:click=move |_| {
                                    let heads = heads2.clone();
                                    repo.with_value(|r| r.change(doc_id, |d| kb::restore(d, &heads, now_ms())));
                                    viewing.set(None);
                                }>{i18n.t("kb.restore")}</button>
                            })}
                        </section>
                    }
                })}
            </div>
        }
    };

    view! {
        <aside class="kb-side" data-testid="kb-side">
            <header class="task-panel-header">
                <strong>{move || i18n.t(if which == Side::Comments { "kb.comments" } else { "kb.versions" })}</strong>
                <span class="spacer"></span>
                <button class="icon-btn" aria-label=move || i18n.t("tasks.close") on:click=move |_| close.set(Side::None)>"×"</button>
            </header>
            {if which == Side::Comments { comments_view().into_any() } else { versions_view().into_any() }}
            {let _ = editable; ()}
        </aside>
    }
}
