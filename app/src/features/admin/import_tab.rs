//! 导入 HR import, in four steps: choose a file (or paste it) → preview what would change, with
//! counts → apply, with a progress bar while the relay works → the result, including the new
//! accounts' one-time initial passwords (copy or download as CSV).
//!
//! The relay parses and validates the file whole; a malformed row comes back with its line number
//! and nothing changes. The preview's token is the file's hash, so applying it applies exactly
//! what was previewed (the relay answers 409 if the directory changed in between).

use super::{copy_text, csv_field, download_text, failure_text, role_label};
use crate::api;
use crate::i18n::{I18n, expect_i18n};
use leptos::prelude::*;
use qiao_model::api::{
    ImportApplied, ImportApply, ImportChange, ImportCounts, ImportPreview, ImportProgress, ImportRecord,
};
use wasm_bindgen::JsCast;

/// Rows of each list shown in the preview; the counts always cover all of them.
const SHOWN_ROWS: usize = 200;

#[derive(Clone)]
enum Step {
    Input,
    Previewing,
    Preview(ImportPreview),
    Applying(ImportPreview),
    Done(ImportApplied),
}

/// The file to import: chosen from disk (name and text) or pasted.
#[derive(Clone, Default)]
struct Source {
    file_name: Option<String>,
    text: String,
}

#[component]
pub fn ImportTab() -> impl IntoView {
    let i18n = expect_i18n();
    let step = RwSignal::new(Step::Input);
    let source = RwSignal::new(Source::default());
    let error = RwSignal::new(None::<String>);

    let preview = move || {
        let text = source.with_untracked(|s| s.text.clone());
        if text.trim().is_empty() {
            return;
        }
        // JSON when it looks like JSON; the relay decides by the first character too.
        let content_type =
            if text.trim_start().starts_with('[') { "application/json" } else { "text/csv; charset=utf-8" };
        error.set(None);
        step.set(Step::Previewing);
        leptos::task::spawn_local(async move {
            match api::post_text::<ImportPreview>("/api/admin/import/preview", content_type, text).await {
                Ok(p) => step.set(Step::Preview(p)),
                Err(f) => {
                    error.set(Some(failure_text(i18n, &f)));
                    step.set(Step::Input);
                }
            }
        });
    };
    let apply = move |p: ImportPreview| {
        error.set(None);
        let token = p.token.clone();
        step.set(Step::Applying(p.clone()));
        leptos::task::spawn_local(async move {
            match api::post::<_, ImportApplied>("/api/admin/import/apply", &ImportApply { token }).await {
                Ok(done) => step.set(Step::Done(done)),
                Err(f) => {
                    error.set(Some(failure_text(i18n, &f)));
                    step.set(Step::Preview(p));
                }
            }
        });
    };
    let restart = move || {
        source.set(Source::default());
        error.set(None);
        step.set(Step::Input);
    };

    view! {
        <ol class="import-steps" aria-label=move || i18n.t("admin.tab.import")>
            {["choose", "preview", "apply", "done"]
                .into_iter()
                .enumerate()
                .map(|(i, k)| {
                    let reached = move || {
                        let at = match step.get() {
                            Step::Input | Step::Previewing => 0,
                            Step::Preview(_) => 1,
                            Step::Applying(_) => 2,
                            Step::Done(_) => 3,
                        };
                        i <= at
                    };
                    view! {
                        <li class:reached=reached>
                            <span class="import-step-n">{i + 1}</span>
                            {move || i18n.t(&format!("admin.import.step_{k}"))}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="import-error">{e}</p> })}
        {move || match step.get() {
            Step::Input | Step::Previewing => {
                let busy = matches!(step.get_untracked(), Step::Previewing);
                view! { <ChooseFile source=source busy=busy on_preview=Callback::new(move |_| preview()) /> }.into_any()
            }
            Step::Preview(p) => {
                let p2 = p.clone();
                view! {
                    <PreviewView
                        preview=p
                        on_back=Callback::new(move |_| step.set(Step::Input))
                        on_apply=Callback::new(move |_| apply(p2.clone()))
                    />
                }
                    .into_any()
            }
            Step::Applying(p) => {
                // Follow the relay's progress until the apply answers (then the step changes and
                // the loop ends): hashing the new accounts' passwords, then writing the rows.
                let progress = RwSignal::new(None::<ImportProgress>);
                let token = p.token.clone();
                leptos::task::spawn_local(async move {
                    while matches!(step.get_untracked(), Step::Applying(_)) {
                        if let Ok(now) = api::get::<ImportProgress>(&format!("/api/admin/import/progress/{token}")).await {
                            progress.set(Some(now));
                        }
                        crate::storage::sleep_ms(250).await;
                    }
                });
                let percent = move || progress.get().map(|p| (p.fraction() * 100.0).round() as u32);
                view! {
                    <section class="admin-section" data-testid="import-applying">
                        <p>
                            {move || {
                                i18n.tf(
                                    "admin.import.applying",
                                    &[("n", (p.counts.new + p.counts.changed + p.counts.moved + p.counts.deactivate).to_string())],
                                )
                            }}
                        </p>
                        <div
                            class="progress"
                            class:progress-indeterminate=move || percent().is_none()
                            role="progressbar"
                            aria-valuemin="0"
                            aria-valuemax="100"
                            aria-valuenow=move || percent().map(|v| v.to_string())
                            data-testid="import-progress"
                        >
                            <div class="progress-bar" style=move || percent().map(|v| format!("width: {v}%")).unwrap_or_default()></div>
                        </div>
                        <p class="muted" data-testid="import-progress-text">
                            {move || progress.get().map(|p| {
                                if p.hashed < p.to_hash {
                                    i18n.tf("admin.import.progress_hashing", &[("done", p.hashed.to_string()), ("total", p.to_hash.to_string())])
                                } else {
                                    i18n.tf("admin.import.progress_writing", &[("done", p.written.to_string()), ("total", p.to_write.to_string())])
                                }
                            })}
                        </p>
                    </section>
                }
                    .into_any()
            }
            Step::Done(done) => view! { <DoneView done=done on_again=Callback::new(move |_| restart()) /> }.into_any(),
        }}
    }
}

#[component]
fn ChooseFile(source: RwSignal<Source>, busy: bool, on_preview: Callback<()>) -> impl IntoView {
    let i18n = expect_i18n();
    let reading = RwSignal::new(false);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        let name = file.name();
        reading.set(true);
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string());
            source.set(Source { file_name: Some(name), text: text.unwrap_or_default() });
            reading.set(false);
        });
        // Choosing the same file again after "clear" must fire `change` again.
        input.set_value("");
    };
    let has_text = move || source.with(|s| !s.text.trim().is_empty());
    let rows = move || source.with(|s| s.text.lines().filter(|l| !l.trim().is_empty()).count());

    view! {
        <section class="admin-section">
            <p class="admin-lead">{move || i18n.t("admin.import.lead")}</p>
            <details class="admin-details">
                <summary>{move || i18n.t("admin.import.format_title")}</summary>
                <p class="muted">{move || i18n.t("admin.import.format_body")}</p>
                <pre class="admin-code">
                    "employee_id,name,department,position,manager_employee_id,role\n"
                    "E001,王芳,销售部,销售总监,,dept_admin\n"
                    "E002,李雷,销售部/华东区,销售经理,E001,\n"
                    "E003,韩梅梅,研发部,工程师,,"
                </pre>
            </details>
            <div class="admin-toolbar">
                <label class="btn btn-secondary file-button">
                    <input
                        type="file"
                        class="file-input"
                        accept=".csv,.json,text/csv,application/json"
                        data-testid="import-file"
                        on:change=on_file
                    />
                    {move || i18n.t("admin.import.choose_file")}
                </label>
                <span class="muted">{move || i18n.t("admin.import.or_paste")}</span>
            </div>
            {move || match source.with(|s| s.file_name.clone()) {
                Some(name) => {
                    view! {
                        <div class="file-chip" data-testid="import-file-chip">
                            <span class="file-chip-name">{name}</span>
                            <span class="muted">{move || i18n.tf("admin.import.lines", &[("n", rows().to_string())])}</span>
                            <button
                                class="icon-btn"
                                aria-label=move || i18n.t("admin.import.clear")
                                title=move || i18n.t("admin.import.clear")
                                on:click=move |_| source.set(Source::default())
                            >
                                <span class="icon icon-close" aria-hidden="true"></span>
                            </button>
                        </div>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <textarea
                            class="textarea admin-paste"
                            rows="8"
                            spellcheck="false"
                            placeholder=move || i18n.t("admin.import.paste_placeholder")
                            aria-label=move || i18n.t("admin.import.paste_placeholder")
                            data-testid="import-text"
                            prop:value=move || source.with(|s| s.text.clone())
                            on:input=move |ev| source.set(Source { file_name: None, text: event_target_value(&ev) })
                        ></textarea>
                    }
                        .into_any()
                }
            }}
            <div class="admin-actions">
                <button
                    class="btn btn-primary"
                    data-testid="import-preview"
                    disabled=move || busy || reading.get() || !has_text()
                    aria-busy=move || (busy || reading.get()).to_string()
                    on:click=move |_| on_preview.run(())
                >
                    {move || i18n.t(if busy { "admin.import.previewing" } else { "admin.import.preview" })}
                </button>
            </div>
        </section>
    }
}

fn counts_grid(i18n: I18n, c: ImportCounts) -> impl IntoView {
    let items = [
        ("new", c.new),
        ("changed", c.changed),
        ("moved", c.moved),
        ("deactivate", c.deactivate),
        ("unchanged", c.unchanged),
        ("departments_new", c.departments_new),
    ];
    view! {
        <div class="stat-grid" data-testid="import-counts">
            {items
                .into_iter()
                .map(|(k, n)| {
                    view! {
                        <div class="stat" data-kind=k data-testid=format!("count-{k}") data-count=n.to_string()>
                            <span class="stat-value">{n}</span>
                            <span class="stat-label">{move || i18n.t(&format!("admin.import.count_{k}"))}</span>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}

fn more_note(i18n: I18n, total: usize) -> Option<impl IntoView> {
    (total > SHOWN_ROWS).then(|| {
        view! {
            <p class="muted admin-note">
                {move || i18n.tf("admin.import.more_rows", &[("n", (total - SHOWN_ROWS).to_string())])}
            </p>
        }
    })
}

/// One field of a record as shown ("—" when empty).
fn field(i18n: I18n, r: &ImportRecord, name: &str) -> String {
    let v = match name {
        "name" => r.name.clone(),
        "department" => r.department.clone(),
        "position" => r.position.clone(),
        "manager_employee_id" => r.manager_employee_id.clone().unwrap_or_default(),
        "role" => role_label(i18n, r.role),
        "status" => i18n.t(&format!("admin.status.{}", r.status.as_str())),
        _ => String::new(),
    };
    if v.is_empty() { "—".into() } else { v }
}

fn change_rows(i18n: I18n, list: &[ImportChange]) -> impl IntoView + use<> {
    list.iter()
        .take(SHOWN_ROWS)
        .map(|c| {
            let diffs = c
                .fields
                .iter()
                .map(|f| {
                    let label = format!("admin.import.field_{f}");
                    let (before, after) = (field(i18n, &c.before, f), field(i18n, &c.after, f));
                    view! {
                        <div class="diff">
                            <span class="diff-field">{move || i18n.t(&label)}</span>
                            <del>{before}</del>
                            <span aria-hidden="true">"→"</span>
                            <ins>{after}</ins>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <td class="cell-mono">{c.line}</td>
                    <td class="cell-mono">{c.after.employee_id.clone()}</td>
                    <td>{c.after.name.clone()}</td>
                    <td class="cell-wrap">{diffs}</td>
                </tr>
            }
        })
        .collect_view()
}

#[component]
fn PreviewView(preview: ImportPreview, on_back: Callback<()>, on_apply: Callback<()>) -> impl IntoView {
    let i18n = expect_i18n();
    let c = preview.counts;
    let nothing = c.new + c.changed + c.moved + c.deactivate + c.departments_new == 0;
    let p = preview;
    let new_rows = p
        .new
        .iter()
        .take(SHOWN_ROWS)
        .map(|n| {
            let r = n.record.clone();
            view! {
                <tr>
                    <td class="cell-mono">{n.line}</td>
                    <td class="cell-mono">{r.employee_id.clone()}</td>
                    <td>{r.name.clone()}</td>
                    <td>{field(i18n, &r, "department")}</td>
                    <td>{field(i18n, &r, "position")}</td>
                    <td>{field(i18n, &r, "role")}</td>
                </tr>
            }
        })
        .collect_view();
    let deact_rows = p
        .deactivate
        .iter()
        .take(SHOWN_ROWS)
        .map(|d| {
            let r = d.record.clone();
            view! {
                <tr>
                    <td class="cell-mono">{r.employee_id.clone()}</td>
                    <td>{r.name.clone()}</td>
                    <td>{field(i18n, &r, "department")}</td>
                    <td>{field(i18n, &r, "position")}</td>
                </tr>
            }
        })
        .collect_view();
    let line_th = move || i18n.t("admin.import.col_line");
    let id_th = move || i18n.t("admin.dir.col_employee_id");
    let name_th = move || i18n.t("admin.dir.col_name");
    let change_lists = [("moved", &p.moved), ("changed", &p.changed)]
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(k, l)| {
            view! {
                <div class="import-list" data-testid=format!("import-{k}")>
                    <h4>{move || i18n.t(&format!("admin.import.count_{k}"))}</h4>
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th>{line_th}</th>
                                    <th>{id_th}</th>
                                    <th>{name_th}</th>
                                    <th>{move || i18n.t("admin.import.col_change")}</th>
                                </tr>
                            </thead>
                            <tbody>{change_rows(i18n, l)}</tbody>
                        </table>
                    </div>
                    {more_note(i18n, l.len())}
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="admin-section" data-testid="import-preview-result">
            <h3 class="admin-subtitle">{move || i18n.t("admin.import.preview_title")}</h3>
            {counts_grid(i18n, c)}
            {nothing
                .then(|| {
                    view! {
                        <p class="banner admin-banner" role="status" data-testid="import-nothing">
                            {move || i18n.t("admin.import.nothing")}
                        </p>
                    }
                })}
            {(c.deactivate > 0)
                .then(|| {
                    view! {
                        <p class="banner banner-warning admin-banner" role="status">
                            {move || i18n.tf("admin.import.deactivate_warning", &[("n", c.deactivate.to_string())])}
                        </p>
                    }
                })}
            {(!p.departments_new.is_empty())
                .then(|| {
                    let list = p.departments_new.join("、");
                    view! {
                        <div class="import-list">
                            <h4>{move || i18n.t("admin.import.count_departments_new")}</h4>
                            <p class="muted">{list}</p>
                        </div>
                    }
                })}
            {(!p.new.is_empty())
                .then(|| {
                    view! {
                        <div class="import-list" data-testid="import-new">
                            <h4>{move || i18n.t("admin.import.count_new")}</h4>
                            <div class="table-wrap">
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th>{line_th}</th>
                                            <th>{id_th}</th>
                                            <th>{name_th}</th>
                                            <th>{move || i18n.t("admin.dir.col_department")}</th>
                                            <th>{move || i18n.t("admin.dir.col_position")}</th>
                                            <th>{move || i18n.t("admin.dir.col_role")}</th>
                                        </tr>
                                    </thead>
                                    <tbody>{new_rows}</tbody>
                                </table>
                            </div>
                            {more_note(i18n, p.new.len())}
                        </div>
                    }
                })}
            {change_lists}
            {(!p.deactivate.is_empty())
                .then(|| {
                    view! {
                        <div class="import-list" data-testid="import-deactivate">
                            <h4>{move || i18n.t("admin.import.count_deactivate")}</h4>
                            <div class="table-wrap">
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th>{id_th}</th>
                                            <th>{name_th}</th>
                                            <th>{move || i18n.t("admin.dir.col_department")}</th>
                                            <th>{move || i18n.t("admin.dir.col_position")}</th>
                                        </tr>
                                    </thead>
                                    <tbody>{deact_rows}</tbody>
                                </table>
                            </div>
                            {more_note(i18n, p.deactivate.len())}
                        </div>
                    }
                })}
            <div class="admin-actions">
                <button class="btn btn-secondary" data-testid="import-back" on:click=move |_| on_back.run(())>
                    {move || i18n.t("admin.import.back")}
                </button>
                <button
                    class="btn btn-primary"
                    data-testid="import-apply"
                    disabled=nothing
                    on:click=move |_| on_apply.run(())
                >
                    {move || i18n.t("admin.import.apply")}
                </button>
            </div>
        </section>
    }
}

#[component]
fn DoneView(done: ImportApplied, on_again: Callback<()>) -> impl IntoView {
    let i18n = expect_i18n();
    let c = done.counts;
    let passwords = done.initial_passwords;
    let csv = {
        let mut out = String::from("\u{feff}employee_id,username,password\r\n");
        for p in &passwords {
            out.push_str(&format!(
                "{},{},{}\r\n",
                csv_field(&p.employee_id),
                csv_field(&p.username),
                csv_field(&p.password)
            ));
        }
        StoredValue::new(out)
    };
    let copied = RwSignal::new(None::<bool>);
    let copy = move |_| {
        // Tab-separated: pastes into a spreadsheet as columns.
        let text = csv.with_value(|c| c.trim_start_matches('\u{feff}').replace(',', "\t"));
        leptos::task::spawn_local(async move {
            copied.set(Some(copy_text(&text).await));
        });
    };
    let rows = passwords
        .iter()
        .map(|p| {
            view! {
                <tr data-testid="password-row" data-username=p.username.clone()>
                    <td class="cell-mono">{p.employee_id.clone()}</td>
                    <td class="cell-mono">{p.username.clone()}</td>
                    <td class="cell-mono cell-secret" data-testid="initial-password">{p.password.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let has_passwords = !passwords.is_empty();
    view! {
        <section class="admin-section" data-testid="import-done">
            <p class="banner admin-banner admin-banner-success" role="status">
                {move || i18n.t("admin.import.done")}
            </p>
            {counts_grid(i18n, c)}
            {has_passwords
                .then(|| {
                    view! {
                        <div class="import-list" data-testid="initial-passwords">
                            <h4>{move || i18n.t("admin.import.passwords_title")}</h4>
                            <p class="banner banner-warning admin-banner">{move || i18n.t("admin.import.passwords_once")}</p>
                            <div class="admin-toolbar">
                                <button class="btn btn-secondary btn-sm" data-testid="copy-passwords" on:click=copy>
                                    {move || i18n.t(if copied.get() == Some(true) { "admin.copied" } else { "admin.copy" })}
                                </button>
                                <button
                                    class="btn btn-secondary btn-sm"
                                    data-testid="download-passwords"
                                    on:click=move |_| {
                                        csv.with_value(|c| download_text("qiao-initial-passwords.csv", "text/csv;charset=utf-8", c))
                                    }
                                >
                                    {move || i18n.t("admin.download_csv")}
                                </button>
                                {move || {
                                    (copied.get() == Some(false))
                                        .then(|| view! { <span class="muted">{move || i18n.t("admin.copy_failed")}</span> })
                                }}
                            </div>
                            <div class="table-wrap">
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th>{move || i18n.t("admin.dir.col_employee_id")}</th>
                                            <th>{move || i18n.t("admin.import.col_username")}</th>
                                            <th>{move || i18n.t("admin.import.col_password")}</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                        </div>
                    }
                })}
            <div class="admin-actions">
                <button class="btn btn-secondary" data-testid="import-again" on:click=move |_| on_again.run(())>
                    {move || i18n.t("admin.import.again")}
                </button>
            </div>
        </section>
    }
}
