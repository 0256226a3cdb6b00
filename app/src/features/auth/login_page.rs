//! The login page: username and password, in the user's language, and the company's single
//! sign-on button when a super admin has set one up (`GET /api/auth/oidc`).
//!
//! Single sign-on is a plain navigation to `/api/auth/oidc/start`: the relay sends the browser
//! to the provider and back, and lands it on `/` with the session cookie. The app then learns
//! who is logged in from `/api/me` ([`crate::app`]) and goes through [`adopt_login`] as a
//! password login does. A refused attempt lands on `/?sso_error=<code>`: the page shows the
//! message and takes the code out of the address bar.

use crate::api::{self, ApiFailure};
use crate::contexts::expect_session;
use crate::i18n::{Locale, expect_i18n};
use crate::storage;
use crate::sync::repo::Repo;
use leptos::prelude::*;
use qiao_model::api::{LoginRequest, LoginResponse, Me, OidcLoginOption, SsoError};

/// Make `me` the person this browser's local data belongs to. When someone else's copies are
/// here, they are wiped first: one person's local data is never shown to another.
/// `always_wipe`: also wipe when no owner is recorded (a password login on a fresh profile).
pub async fn adopt_login(me: &Me, always_wipe: bool) {
    let owner = storage::get("qiao.owner");
    let other = match owner.as_deref() {
        Some(o) => o != me.id.to_string(),
        None => always_wipe,
    };
    if other {
        Repo::wipe_local().await;
    }
    storage::set("qiao.owner", &me.id.to_string());
    storage::set_json("qiao.me", me);
}

/// The `sso_error` a refused single sign-on left in the address, removed from it at once (so
/// a reload or a bookmark does not show it again).
fn take_sso_error() -> Option<SsoError> {
    let window = web_sys::window()?;
    let location = window.location();
    let search = location.search().ok()?;
    let code =
        search.trim_start_matches('?').split('&').find_map(|kv| kv.strip_prefix("sso_error=")).map(str::to_string)?;
    if let (Ok(history), Ok(path)) = (window.history(), location.pathname()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    // An unknown code still says that single sign-on failed.
    Some(SsoError::parse(&code).unwrap_or(SsoError::Unavailable))
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = expect_i18n();
    let session = expect_session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(take_sso_error().map(|e| format!("login.sso.{}", e.as_str())));
    let busy = RwSignal::new(false);
    // Offline or an older relay: no button, the password form still works.
    let sso = LocalResource::new(|| api::get::<OidcLoginOption>("/api/auth/oidc"));
    let sso = move || sso.get().and_then(Result::ok).filter(|o| o.enabled);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let req =
            LoginRequest { username: username.get_untracked().trim().to_string(), password: password.get_untracked() };
        leptos::task::spawn_local(async move {
            match api::post::<_, LoginResponse>("/api/auth/login", &req).await {
                Ok(res) => {
                    adopt_login(&res.user, true).await;
                    session.me.set(Some(res.user));
                }
                Err(f) => {
                    let key = match &f {
                        ApiFailure::Offline => "login.offline",
                        ApiFailure::Refused(e) if e.code == "rate_limited" => "login.rate_limited",
                        _ => "login.bad_credentials",
                    };
                    error.set(Some(key.to_string()));
                }
            }
            busy.set(false);
        });
    };

    view! {
        <div class="login-page">
            <form class="login-card" on:submit=submit data-testid="login-form">
                <div class="login-brand">
                    <img class="brand-logo" src="/icons/icon.svg" alt="" />
                    <h1>{move || i18n.t("app.name")}</h1>
                    <p class="login-tagline">{move || i18n.t("app.tagline")}</p>
                </div>
                <label class="field">
                    <span class="field-label">{move || i18n.t("login.username")}</span>
                    <input
                        class="input"
                        name="username"
                        autocomplete="username"
                        required
                        data-testid="login-username"
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))
                    />
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.t("login.password")}</span>
                    <input
                        class="input"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        data-testid="login-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </label>
                {move || {
                    error
                        .get()
                        .map(|k| {
                            view! {
                                <p class="form-error" role="alert" data-testid="login-error">
                                    {i18n.t(&k)}
                                </p>
                            }
                        })
                }}
                <button class="btn btn-primary btn-block" type="submit" disabled=move || busy.get() data-testid="login-submit">
                    {move || if busy.get() { i18n.t("login.busy") } else { i18n.t("login.submit") }}
                </button>
                {move || {
                    sso()
                        .map(|o| {
                            view! {
                                <div class="login-or" aria-hidden="true">
                                    <span>{move || i18n.t("login.sso.or")}</span>
                                </div>
                                // A navigation, not a fetch: the provider's pages take over the tab.
                                <a class="btn btn-secondary btn-block" href="/api/auth/oidc/start" data-testid="login-sso">
                                    {o.button_label}
                                </a>
                            }
                        })
                }}
                <div class="login-footer">
                    <LanguageSelect />
                </div>
            </form>
        </div>
    }
}

/// The language switch, used on the login page and in the sidebar.
#[component]
pub fn LanguageSelect(#[prop(optional)] small: bool) -> impl IntoView {
    let i18n = expect_i18n();
    view! {
        <select
            class=if small { "select select-sm" } else { "select" }
            aria-label=move || i18n.t("sidebar.language")
            data-testid="lang-switch"
            on:change=move |ev| {
                i18n.set(if event_target_value(&ev) == "en" { Locale::En } else { Locale::ZhCn })
            }
        >
            <option value="zh-CN" selected=move || i18n.locale.get() == Locale::ZhCn>
                {move || i18n.t("lang.zh-CN")}
            </option>
            <option value="en" selected=move || i18n.locale.get() == Locale::En>
                {move || i18n.t("lang.en")}
            </option>
        </select>
    }
}
