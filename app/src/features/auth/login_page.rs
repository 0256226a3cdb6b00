//! The login page: username and password, in the user's language.

use crate::api::{self, ApiFailure};
use crate::contexts::expect_session;
use crate::i18n::{Locale, expect_i18n};
use crate::storage;
use crate::sync::repo::Repo;
use leptos::prelude::*;
use qiao_model::api::{LoginRequest, LoginResponse};

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = expect_i18n();
    let session = expect_session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

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
                    // Another person's local copies must not be shown to this one.
                    if storage::get("qiao.owner").as_deref() != Some(&res.user.id.to_string()) {
                        Repo::wipe_local().await;
                        storage::set("qiao.owner", &res.user.id.to_string());
                    }
                    storage::set_json("qiao.me", &res.user);
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
