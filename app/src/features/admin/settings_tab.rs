//! 设置 Settings (super admins only): the offline-cache expiry, the number of days a device may
//! go without reaching the relay before the app wipes what it holds locally; and single sign-on
//! ([`super::sso_settings`]).

use super::{LoadError, Loading, failure_text};
use crate::api;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::api::ClientSettings;

/// The relay's limit (ten years).
const MAX_DAYS: u32 = 3650;

#[component]
pub fn SettingsTab() -> impl IntoView {
    let i18n = expect_i18n();
    let loaded = LocalResource::new(|| api::get::<ClientSettings>("/api/settings/client"));
    let reload = Callback::new(move |_| loaded.refetch());
    view! {
        <section class="admin-section">
            {move || match loaded.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(f)) => view! { <LoadError message=failure_text(i18n, &f) retry=reload /> }.into_any(),
                Some(Ok(s)) => view! { <SettingsForm settings=s /> }.into_any(),
            }}
        </section>
        <super::sso_settings::SsoSettings />
    }
}

#[component]
fn SettingsForm(settings: ClientSettings) -> impl IntoView {
    let i18n = expect_i18n();
    let days = RwSignal::new(settings.offline_cache_expiry_days.map(|d| d.to_string()).unwrap_or_default());
    let saved = RwSignal::new(settings.offline_cache_expiry_days);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let parsed = Memo::new(move |_| {
        let t = days.get();
        let t = t.trim();
        if t.is_empty() {
            return Ok(None);
        }
        match t.parse::<u32>() {
            Ok(d) if (1..=MAX_DAYS).contains(&d) => Ok(Some(d)),
            _ => Err(()),
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(value) = parsed.get_untracked() else { return };
        busy.set(true);
        error.set(None);
        notice.set(None);
        leptos::task::spawn_local(async move {
            let body = ClientSettings { offline_cache_expiry_days: value };
            match api::put::<_, ClientSettings>("/api/admin/settings/client", &body).await {
                Ok(s) => {
                    saved.set(s.offline_cache_expiry_days);
                    notice.set(Some(match s.offline_cache_expiry_days {
                        Some(d) => i18n.tf("admin.settings.saved_days", &[("n", d.to_string())]),
                        None => i18n.t("admin.settings.saved_never"),
                    }));
                }
                Err(f) => error.set(Some(failure_text(i18n, &f))),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="settings-form" on:submit=submit data-testid="settings-form">
            <h3 class="admin-subtitle">{move || i18n.t("admin.settings.offline_title")}</h3>
            <p class="muted">{move || i18n.t("admin.settings.offline_body")}</p>
            <label class="field">
                <span class="field-label">{move || i18n.t("admin.settings.expiry_label")}</span>
                <div class="input-with-unit">
                    <input
                        class="input"
                        type="number"
                        inputmode="numeric"
                        min="1"
                        max=MAX_DAYS.to_string()
                        placeholder=move || i18n.t("admin.settings.never")
                        data-testid="expiry-days"
                        aria-invalid=move || parsed.get().is_err().to_string()
                        prop:value=move || days.get()
                        on:input=move |ev| days.set(event_target_value(&ev))
                    />
                    <span class="muted">{move || i18n.t("admin.settings.days")}</span>
                </div>
                <span class="field-hint">
                    {move || {
                        if parsed.get().is_err() {
                            i18n.tf("admin.settings.invalid", &[("max", MAX_DAYS.to_string())])
                        } else {
                            match saved.get() {
                                Some(d) => i18n.tf("admin.settings.current_days", &[("n", d.to_string())]),
                                None => i18n.t("admin.settings.current_never"),
                            }
                        }
                    }}
                </span>
            </label>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || notice.get().map(|n| view! { <p class="banner admin-banner admin-banner-success" role="status" data-testid="settings-saved">{n}</p> })}
            <div class="admin-actions">
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="settings-save"
                    disabled=move || busy.get() || parsed.get().is_err()
                    aria-busy=move || busy.get().to_string()
                >
                    {move || i18n.t("admin.save")}
                </button>
            </div>
        </form>
    }
}
