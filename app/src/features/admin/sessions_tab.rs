//! 我的设备 My devices (everyone): the caller's live sessions, this one marked, and "log out
//! all other devices", which ends the other sessions and their live sockets at once.

use super::{LoadError, Loading, failure_text, format_time};
use crate::api;
use crate::i18n::{I18n, expect_i18n};
use leptos::prelude::*;
use qiao_model::api::{ChangePassword, LoggedOutOthers, MIN_PASSWORD_CHARS, SessionInfo};

/// "Chrome · Windows" from a user agent string; the whole string is the cell's tooltip.
fn describe(i18n: I18n, ua: Option<&str>) -> String {
    let Some(ua) = ua.filter(|u| !u.trim().is_empty()) else { return i18n.t("admin.sessions.unknown_device") };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("MicroMessenger", "WeChat"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| n);
    let os = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| n);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} · {o}"),
        (Some(x), None) | (None, Some(x)) => x.to_string(),
        // Scripts and other clients: their own name, shortened.
        (None, None) => ua.chars().take(40).collect(),
    }
}

#[component]
pub fn SessionsTab() -> impl IntoView {
    let i18n = expect_i18n();
    let sessions = LocalResource::new(|| api::get::<Vec<SessionInfo>>("/api/sessions"));
    let reload = Callback::new(move |_| sessions.refetch());
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let logout_others = Action::new_local(move |_: &()| async move {
        match api::post_bare::<LoggedOutOthers>("/api/sessions/logout-others").await {
            Ok(r) => {
                notice.set(Some(i18n.tf("admin.sessions.logged_out", &[("n", r.revoked.to_string())])));
                sessions.refetch();
            }
            Err(f) => error.set(Some(failure_text(i18n, &f))),
        }
    });

    view! {
        <section class="admin-section">
            <p class="admin-lead">{move || i18n.t("admin.sessions.lead")}</p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || notice.get().map(|n| view! { <p class="banner admin-banner admin-banner-success" role="status" data-testid="sessions-notice">{n}</p> })}
            {move || match sessions.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(f)) => view! { <LoadError message=failure_text(i18n, &f) retry=reload /> }.into_any(),
                Some(Ok(list)) => {
                    let others = list.iter().filter(|s| !s.current).count();
                    let mut list = list;
                    // This device first, then the newest.
                    list.sort_by_key(|s| (!s.current, -s.created_at));
                    view! {
                        <div class="admin-toolbar">
                            <span class="muted" data-testid="sessions-count">
                                {move || i18n.tf("admin.sessions.count", &[("n", (others + 1).to_string())])}
                            </span>
                            <button
                                class="btn btn-secondary btn-sm"
                                data-testid="logout-others"
                                disabled=move || others == 0 || logout_others.pending().get()
                                aria-busy=move || logout_others.pending().get().to_string()
                                on:click=move |_| {
                                    error.set(None);
                                    notice.set(None);
                                    logout_others.dispatch(());
                                }
                            >
                                <span class="icon icon-logout" aria-hidden="true"></span>
                                {move || i18n.t("admin.sessions.logout_others")}
                            </button>
                        </div>
                        {(others == 0)
                            .then(|| {
                                view! {
                                    <p class="muted admin-note" data-testid="sessions-only-this">
                                        {move || i18n.t("admin.sessions.only_this")}
                                    </p>
                                }
                            })}
                        <div class="table-wrap">
                            <table class="table" data-testid="sessions-table">
                                <thead>
                                    <tr>
                                        <th>{move || i18n.t("admin.sessions.col_device")}</th>
                                        <th>{move || i18n.t("admin.sessions.col_ip")}</th>
                                        <th>{move || i18n.t("admin.sessions.col_since")}</th>
                                        <th>{move || i18n.t("admin.sessions.col_expires")}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list
                                        .into_iter()
                                        .map(|s| {
                                            let device = describe(i18n, s.user_agent.as_deref());
                                            view! {
                                                <tr data-testid="session-row" data-current=s.current.to_string()>
                                                    <td title=s.user_agent.clone().unwrap_or_default()>
                                                        <span class="cell-main">{device}</span>
                                                        {s
                                                            .current
                                                            .then(|| {
                                                                view! {
                                                                    <span class="pill" data-status="active">
                                                                        {move || i18n.t("admin.sessions.this_device")}
                                                                    </span>
                                                                }
                                                            })}
                                                    </td>
                                                    <td class="cell-mono">{s.ip.clone().unwrap_or_else(|| "—".into())}</td>
                                                    <td class="cell-nowrap">{format_time(s.created_at)}</td>
                                                    <td class="cell-nowrap">{format_time(s.expires_at)}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                }
            }}
            <ChangePasswordForm on_done=reload />
        </section>
    }
}

/// 修改密码: the current password, the new one twice. Other devices are signed out.
#[component]
fn ChangePasswordForm(on_done: Callback<()>) -> impl IntoView {
    let i18n = expect_i18n();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let save = Action::new_local(move |_: &()| async move {
        let body = ChangePassword { current: current.get_untracked(), new: new.get_untracked() };
        match api::post::<_, LoggedOutOthers>("/api/me/password", &body).await {
            Ok(_) => {
                done.set(true);
                current.set(String::new());
                new.set(String::new());
                repeat.set(String::new());
                on_done.run(());
            }
            // The relay's reason, in the reader's language where the app knows it.
            Err(api::ApiFailure::Refused(e)) if e.message.contains("current password") => {
                error.set(Some(i18n.t("admin.password.wrong")))
            }
            Err(f) => error.set(Some(failure_text(i18n, &f))),
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        done.set(false);
        if new.get_untracked().chars().count() < MIN_PASSWORD_CHARS {
            error.set(Some(i18n.t("admin.password.too_short")));
        } else if new.get_untracked() != repeat.get_untracked() {
            error.set(Some(i18n.t("admin.password.mismatch")));
        } else {
            save.dispatch(());
        }
    };
    view! {
        <form class="admin-form password-form" data-testid="password-form" on:submit=submit>
            <h3>{move || i18n.t("admin.password.title")}</h3>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Show when=move || done.get()>
                <p class="banner admin-banner admin-banner-success" role="status" data-testid="password-changed">
                    {move || i18n.t("admin.password.changed")}
                </p>
            </Show>
            <label class="field">
                <span class="field-label">{move || i18n.t("admin.password.current")}</span>
                <input class="input" type="password" autocomplete="current-password" data-testid="password-current"
                    prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev)) />
            </label>
            <label class="field">
                <span class="field-label">{move || i18n.t("admin.password.new")}</span>
                <input class="input" type="password" autocomplete="new-password" data-testid="password-new"
                    prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev)) />
            </label>
            <label class="field">
                <span class="field-label">{move || i18n.t("admin.password.repeat")}</span>
                <input class="input" type="password" autocomplete="new-password" data-testid="password-repeat"
                    prop:value=move || repeat.get() on:input=move |ev| repeat.set(event_target_value(&ev)) />
            </label>
            <div>
                <button class="btn btn-primary btn-sm" type="submit" data-testid="password-save" disabled=move || save.pending().get()>
                    {move || i18n.t("admin.password.save")}
                </button>
            </div>
        </form>
    }
}
