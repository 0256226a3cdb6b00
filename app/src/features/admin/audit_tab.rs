//! 操作日志 Audit log (super admins only): filters (who, what, outcome, dates), a table paged
//! newest first, the CSV export of everything the filters match, and "verify chain", which asks
//! the relay to recompute the hash chain and shows either the head to keep or the first row that
//! does not check out.

use super::{LoadError, Loading, failure_text, format_time};
use crate::api;
use crate::i18n::{I18n, expect_i18n};
use leptos::prelude::*;
use qiao_model::api::{AuditEntry, AuditPage, AuditVerify};
use qiao_model::audit::{Domain, Event, Outcome};

const PAGE_SIZE: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Filters {
    user: String,
    action: String,
    outcome: String,
    from: String,
    to: String,
}

impl Filters {
    /// The query string the relay's audit endpoints take (`user=…&action=…`).
    fn query(&self) -> String {
        [
            ("user", &self.user),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v.trim()))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The label of an event code (`admin.event.<code>`), or the code for events this build does not
/// know yet.
fn event_label(i18n: I18n, code: &str) -> String {
    let key = format!("admin.event.{code}");
    let text = i18n.t(&key);
    if text == key { code.to_string() } else { text }
}

fn domains() -> Vec<Domain> {
    let mut out: Vec<Domain> = Vec::new();
    for e in Event::ALL {
        if !out.contains(&e.domain()) {
            out.push(e.domain());
        }
    }
    out
}

#[component]
pub fn AuditTab() -> impl IntoView {
    let i18n = expect_i18n();
    let draft = RwSignal::new(Filters::default());
    let applied = RwSignal::new(Filters::default());
    // `before` cursors of the pages seen so far; the last one is the page shown.
    let cursors = RwSignal::new(vec![None::<i64>]);
    let page = LocalResource::new(move || {
        let q = applied.get().query();
        let before = cursors.with(|c| c.last().copied().flatten()).map(|b| format!("&before={b}")).unwrap_or_default();
        let sep = if q.is_empty() { "" } else { "&" };
        let path = format!("/api/admin/audit?limit={PAGE_SIZE}{sep}{q}{before}");
        async move { api::get::<AuditPage>(&path).await }
    });
    let reload = Callback::new(move |_| page.refetch());
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        cursors.set(vec![None]);
        applied.set(draft.get_untracked());
        page.refetch();
    };
    let reset = move |_| {
        draft.set(Filters::default());
        applied.set(Filters::default());
        cursors.set(vec![None]);
    };
    let export_href = move || {
        let q = applied.get().query();
        if q.is_empty() { "/api/admin/audit.csv".to_string() } else { format!("/api/admin/audit.csv?{q}") }
    };

    let verify = RwSignal::new(None::<Result<AuditVerify, String>>);
    let verifying = RwSignal::new(false);
    let run_verify = move |_| {
        verifying.set(true);
        verify.set(None);
        leptos::task::spawn_local(async move {
            let r = api::get::<AuditVerify>("/api/admin/audit/verify").await.map_err(|f| failure_text(i18n, &f));
            verify.set(Some(r));
            verifying.set(false);
        });
    };

    let field = move |get: fn(&Filters) -> &String, set: fn(&mut Filters, String)| {
        (
            move || draft.with(|d| get(d).clone()),
            move |ev: leptos::ev::Event| draft.update(|d| set(d, event_target_value(&ev))),
        )
    };
    let (user_v, user_set) = field(|f| &f.user, |f, v| f.user = v);
    let (action_v, action_set) = field(|f| &f.action, |f, v| f.action = v);
    let (outcome_v, outcome_set) = field(|f| &f.outcome, |f, v| f.outcome = v);
    let (from_v, from_set) = field(|f| &f.from, |f, v| f.from = v);
    let (to_v, to_set) = field(|f| &f.to, |f, v| f.to = v);

    view! {
        <section class="admin-section">
            <form class="audit-filters" on:submit=search data-testid="audit-filters">
                <label class="field">
                    <span class="field-label">{move || i18n.t("admin.audit.user")}</span>
                    <input
                        class="input"
                        data-testid="audit-user"
                        placeholder=move || i18n.t("admin.audit.user_placeholder")
                        prop:value=user_v
                        on:input=user_set
                    />
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.t("admin.audit.action")}</span>
                    <select class="select" data-testid="audit-action" prop:value=action_v on:change=action_set>
                        <option value="">{move || i18n.t("admin.audit.any")}</option>
                        {domains()
                            .into_iter()
                            .map(|d| {
                                let dk = d.as_str();
                                view! {
                                    <optgroup label=move || i18n.t(&format!("admin.domain.{dk}"))>
                                        <option value=dk>
                                            {move || i18n.tf("admin.audit.all_of", &[("domain", i18n.t(&format!("admin.domain.{dk}")))])}
                                        </option>
                                        {d
                                            .events()
                                            .map(|e| {
                                                let code = e.as_str();
                                                view! { <option value=code>{move || event_label(i18n, code)}</option> }
                                            })
                                            .collect_view()}
                                    </optgroup>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.t("admin.audit.outcome")}</span>
                    <select class="select" data-testid="audit-outcome" prop:value=outcome_v on:change=outcome_set>
                        <option value="">{move || i18n.t("admin.audit.any")}</option>
                        <option value="ok">{move || i18n.t("admin.outcome.ok")}</option>
                        <option value="refused">{move || i18n.t("admin.outcome.refused")}</option>
                    </select>
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.t("admin.audit.from")}</span>
                    <input class="input" type="date" data-testid="audit-from" prop:value=from_v on:input=from_set />
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.t("admin.audit.to")}</span>
                    <input class="input" type="date" data-testid="audit-to" prop:value=to_v on:input=to_set />
                </label>
                <div class="audit-filter-actions">
                    <button type="submit" class="btn btn-primary" data-testid="audit-search">
                        <span class="icon icon-search" aria-hidden="true"></span>
                        {move || i18n.t("admin.audit.search")}
                    </button>
                    <button type="button" class="btn btn-ghost" on:click=reset>
                        {move || i18n.t("admin.audit.reset")}
                    </button>
                </div>
            </form>
            <div class="admin-toolbar">
                <a class="btn btn-secondary btn-sm" href=export_href download="qiao-audit.csv" data-testid="audit-export">
                    {move || i18n.t("admin.audit.export")}
                </a>
                <button
                    class="btn btn-secondary btn-sm"
                    data-testid="audit-verify"
                    disabled=move || verifying.get()
                    aria-busy=move || verifying.get().to_string()
                    on:click=run_verify
                >
                    <span class="icon icon-check" aria-hidden="true"></span>
                    {move || i18n.t("admin.audit.verify")}
                </button>
                <button class="btn btn-ghost btn-sm" on:click=move |_| page.refetch()>
                    <span class="icon icon-refresh" aria-hidden="true"></span>
                    {move || i18n.t("admin.audit.refresh")}
                </button>
            </div>
            {move || verify.get().map(|r| verify_view(i18n, r))}
            {move || match page.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(f)) => view! { <LoadError message=failure_text(i18n, &f) retry=reload /> }.into_any(),
                Some(Ok(p)) if p.entries.is_empty() => {
                    view! {
                        <div class="empty-state admin-empty" data-testid="audit-empty">
                            <h3>{move || i18n.t("admin.audit.empty_title")}</h3>
                            <p>{move || i18n.t("admin.audit.empty_body")}</p>
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(p)) => {
                    let next = p.next_before;
                    let n = cursors.with_untracked(|c| c.len());
                    view! {
                        <div class="table-wrap">
                            <table class="table audit-table" data-testid="audit-table">
                                <thead>
                                    <tr>
                                        <th>"#"</th>
                                        <th>{move || i18n.t("admin.audit.col_time")}</th>
                                        <th>{move || i18n.t("admin.audit.user")}</th>
                                        <th>{move || i18n.t("admin.audit.action")}</th>
                                        <th>{move || i18n.t("admin.audit.outcome")}</th>
                                        <th>{move || i18n.t("admin.audit.col_target")}</th>
                                        <th>{move || i18n.t("admin.audit.col_detail")}</th>
                                    </tr>
                                </thead>
                                <tbody>{p.entries.into_iter().map(|e| audit_row(i18n, e)).collect_view()}</tbody>
                            </table>
                        </div>
                        <div class="pager">
                            <button
                                class="btn btn-secondary btn-sm"
                                data-testid="audit-prev"
                                disabled=n <= 1
                                on:click=move |_| {
                                    cursors
                                        .update(|c| {
                                            if c.len() > 1 {
                                                c.pop();
                                            }
                                        })
                                }
                            >
                                {move || i18n.t("admin.audit.prev")}
                            </button>
                            <span class="muted" data-testid="audit-page">
                                {move || i18n.tf("admin.audit.page", &[("n", n.to_string())])}
                            </span>
                            <button
                                class="btn btn-secondary btn-sm"
                                data-testid="audit-next"
                                disabled=next.is_none()
                                on:click=move |_| {
                                    if let Some(b) = next {
                                        cursors.update(|c| c.push(Some(b)));
                                    }
                                }
                            >
                                {move || i18n.t("admin.audit.next")}
                            </button>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

fn verify_view(i18n: I18n, r: Result<AuditVerify, String>) -> impl IntoView {
    match r {
        Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
        Ok(v) if v.ok => {
            let head = v.head_id.map(|h| h.to_string()).unwrap_or_else(|| "—".into());
            let text = i18n.tf(
                "admin.audit.verify_ok",
                &[("rows", v.rows.to_string()), ("id", head), ("hash", v.head_hash.clone())],
            );
            view! {
                <div class="banner admin-banner admin-banner-success" role="status" data-testid="audit-verify-result" data-ok="true">
                    <span>{text}</span>
                </div>
            }
                .into_any()
        }
        Ok(v) => {
            let row = v.first_bad.map(|b| b.to_string()).unwrap_or_else(|| "—".into());
            let text =
                i18n.tf("admin.audit.verify_bad", &[("id", row), ("problem", v.problem.clone().unwrap_or_default())]);
            view! {
                <div class="banner banner-error admin-banner" role="alert" data-testid="audit-verify-result" data-ok="false">
                    <span>{text}</span>
                </div>
            }
                .into_any()
        }
    }
}

fn audit_row(i18n: I18n, e: AuditEntry) -> impl IntoView {
    let outcome = e.outcome;
    let code = e.action.clone();
    let code_attr = code.clone();
    let label = event_label(i18n, &code);
    let has_change = e.before.is_some() || e.after.is_some();
    let (before, after) = (e.before.clone().unwrap_or_default(), e.after.clone().unwrap_or_default());
    view! {
        <tr data-testid="audit-row" data-action=code_attr data-outcome=outcome.as_str()>
            <td class="cell-mono">{e.id}</td>
            <td class="cell-nowrap">{format_time(e.at)}</td>
            <td>
                <div class="cell-main">{e.username.clone().unwrap_or_else(|| "—".into())}</div>
                <div class="cell-sub">{e.ip.clone().unwrap_or_default()}</div>
            </td>
            <td>
                <div class="cell-main">{label}</div>
                <div class="cell-sub cell-mono">{code}</div>
            </td>
            <td>
                <span class="pill" data-status=if outcome == Outcome::Ok { "active" } else { "deactivated" }>
                    {move || i18n.t(&format!("admin.outcome.{}", outcome.as_str()))}
                </span>
            </td>
            <td class="cell-wrap cell-mono">{e.target.clone()}</td>
            <td class="cell-wrap">
                {e.detail.clone()}
                {has_change
                    .then(|| {
                        view! {
                            <details class="audit-change">
                                <summary>{move || i18n.t("admin.audit.before_after")}</summary>
                                <div class="diff">
                                    <del class="cell-mono">{before}</del>
                                    <span aria-hidden="true">"→"</span>
                                    <ins class="cell-mono">{after}</ins>
                                </div>
                            </details>
                        }
                    })}
            </td>
        </tr>
    }
}
