//! 单点登录 Single sign-on (OpenID Connect), part of the settings tab: the provider's issuer URL,
//! this client's id and secret, the claim whose value is a Qiao username, the button's label,
//! and the redirect URI to register at the provider. The secret is write-only: once saved the
//! relay only says that one is set, and an empty field keeps it.

use super::{LoadError, Loading, failure_text};
use crate::api;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::api::{OidcSettings, SetOidcSettings};

/// Claims that commonly carry a username; any other name may be typed.
const CLAIMS: [&str; 3] = ["preferred_username", "email", "sub"];

#[component]
pub fn SsoSettings() -> impl IntoView {
    let i18n = expect_i18n();
    let loaded = LocalResource::new(|| api::get::<OidcSettings>("/api/admin/settings/oidc"));
    let reload = Callback::new(move |_| loaded.refetch());
    view! {
        <section class="admin-section sso-settings" data-testid="sso-settings">
            {move || match loaded.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(f)) => view! { <LoadError message=failure_text(i18n, &f) retry=reload /> }.into_any(),
                Some(Ok(s)) => view! { <SsoForm settings=s /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn SsoForm(settings: OidcSettings) -> impl IntoView {
    let i18n = expect_i18n();
    let enabled = RwSignal::new(settings.enabled);
    let issuer = RwSignal::new(settings.issuer.clone());
    let client_id = RwSignal::new(settings.client_id.clone());
    let secret = RwSignal::new(String::new());
    let secret_set = RwSignal::new(settings.client_secret_set);
    let claim = RwSignal::new(if settings.claim.is_empty() {
        "preferred_username".to_string()
    } else {
        settings.claim.clone()
    });
    let label = RwSignal::new(settings.button_label.clone());
    let redirect_uri = settings.redirect_uri.clone();
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        notice.set(None);
        let typed = secret.get_untracked();
        let body = SetOidcSettings {
            enabled: enabled.get_untracked(),
            issuer: issuer.get_untracked(),
            client_id: client_id.get_untracked(),
            // Empty: keep the stored secret.
            client_secret: (!typed.trim().is_empty()).then_some(typed),
            claim: claim.get_untracked(),
            button_label: label.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match api::put::<_, OidcSettings>("/api/admin/settings/oidc", &body).await {
                Ok(s) => {
                    secret.set(String::new());
                    secret_set.set(s.client_secret_set);
                    enabled.set(s.enabled);
                    notice.set(Some(i18n.t(if s.enabled { "admin.sso.saved_on" } else { "admin.sso.saved_off" })));
                }
                Err(f) => error.set(Some(failure_text(i18n, &f))),
            }
            busy.set(false);
        });
    };

    let text_field =
        move |key: &'static str, value: RwSignal<String>, test_id: &'static str, placeholder: &'static str| {
            view! {
                <label class="field">
                    <span class="field-label">{move || i18n.t(&format!("admin.sso.{key}"))}</span>
                    <input
                        class="input"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder=placeholder
                        data-testid=test_id
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))
                    />
                    <span class="field-hint">{move || i18n.t(&format!("admin.sso.{key}_hint"))}</span>
                </label>
            }
        };

    view! {
        <form class="settings-form" on:submit=submit data-testid="sso-form">
            <h3 class="admin-subtitle">{move || i18n.t("admin.sso.title")}</h3>
            <p class="muted">{move || i18n.t("admin.sso.body")}</p>
            <label class="switch">
                <input
                    type="checkbox"
                    role="switch"
                    data-testid="sso-enabled"
                    prop:checked=move || enabled.get()
                    on:change=move |ev| enabled.set(event_target_checked(&ev))
                />
                <span class="switch-track" aria-hidden="true"></span>
                <span class="switch-label">
                    {move || i18n.t(if enabled.get() { "admin.sso.on" } else { "admin.sso.off" })}
                </span>
            </label>
            {text_field("issuer", issuer, "sso-issuer", "https://login.example.com/realms/company")}
            {text_field("client_id", client_id, "sso-client-id", "qiao")}
            <label class="field">
                <span class="field-label">{move || i18n.t("admin.sso.client_secret")}</span>
                <input
                    class="input"
                    type="password"
                    autocomplete="new-password"
                    data-testid="sso-client-secret"
                    placeholder=move || if secret_set.get() { i18n.t("admin.sso.secret_keep") } else { String::new() }
                    prop:value=move || secret.get()
                    on:input=move |ev| secret.set(event_target_value(&ev))
                />
                <span class="field-hint" data-testid="sso-secret-state">
                    {move || i18n.t(if secret_set.get() { "admin.sso.secret_set" } else { "admin.sso.secret_unset" })}
                </span>
            </label>
            <label class="field">
                <span class="field-label">{move || i18n.t("admin.sso.claim")}</span>
                <input
                    class="input"
                    list="sso-claims"
                    autocomplete="off"
                    spellcheck="false"
                    data-testid="sso-claim"
                    prop:value=move || claim.get()
                    on:input=move |ev| claim.set(event_target_value(&ev))
                />
                <datalist id="sso-claims">
                    {CLAIMS.into_iter().map(|c| view! { <option value=c></option> }).collect_view()}
                </datalist>
                <span class="field-hint">{move || i18n.t("admin.sso.claim_hint")}</span>
            </label>
            {text_field("button_label", label, "sso-button-label", "")}
            <div class="field">
                <span class="field-label">{move || i18n.t("admin.sso.redirect_uri")}</span>
                {match redirect_uri {
                    Some(uri) => view! { <code class="sso-redirect-uri" data-testid="sso-redirect-uri">{uri}</code> }.into_any(),
                    None => view! { <p class="form-error" role="note">{move || i18n.t("admin.sso.no_public_url")}</p> }.into_any(),
                }}
                <span class="field-hint">{move || i18n.t("admin.sso.redirect_uri_hint")}</span>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="sso-error">{e}</p> })}
            {move || notice.get().map(|n| view! { <p class="banner admin-banner admin-banner-success" role="status" data-testid="sso-saved">{n}</p> })}
            <div class="admin-actions">
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="sso-save"
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().to_string()
                >
                    {move || i18n.t("admin.save")}
                </button>
            </div>
        </form>
    }
}
