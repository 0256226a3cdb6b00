//! The root component: language, session, and either the login page or the app shell.

use crate::api::{self, ApiFailure};
use crate::contexts::provide_session;
use crate::features::auth::login_page::LoginPage;
use crate::features::chat::shell::Shell;
use crate::i18n::provide_i18n;
use crate::storage;
use leptos::prelude::*;
use qiao_model::api::Me;

#[component]
pub fn App() -> impl IntoView {
    let i18n = provide_i18n();
    // Past the offline-cache expiry: forget who was logged in before anything opens the copy.
    let expired = crate::cache_expiry::expired(js_sys::Date::now() as i64);
    if expired.is_some() {
        storage::remove("qiao.me");
    }
    let session = provide_session();
    let wiped = RwSignal::new(storage::get(crate::cache_expiry::WIPED_NOTICE));
    provide_context(crate::cache_expiry::Wiped(wiped));
    if let Some(days) = expired {
        leptos::task::spawn_local(async move {
            crate::cache_expiry::wipe(days).await;
            wiped.set(Some(days.to_string()));
        });
    }
    apply_theme();

    // The cached user opens the app at once (offline too); the server confirms in the background.
    leptos::task::spawn_local(async move {
        match api::get::<Me>("/api/me").await {
            Ok(me) => {
                // After single sign-on this is the first the app hears of who logged in: another
                // person's local copies go first, as after a password login.
                crate::features::auth::login_page::adopt_login(&me, false).await;
                crate::cache_expiry::refresh_policy().await;
                if session.me.get_untracked().as_ref() != Some(&me) {
                    session.me.set(Some(me));
                }
            }
            // Keep local data: the same person logging in again finds their unsent messages.
            Err(ApiFailure::Unauthorized) => {
                storage::remove("qiao.me");
                session.me.set(None);
            }
            Err(_) => {}
        }
    });

    let user = Memo::new(move |_| session.me.with(|m| m.as_ref().map(|m| m.id)));
    move || match user.get() {
        Some(_) => view! { <Shell /> }.into_any(),
        None => view! {
            {move || wiped.get().map(|days| view! {
                <div class="banner banner-warning wiped-notice" role="alert" data-testid="cache-wiped">
                    <span>{i18n.tf("login.cache_wiped", &[("days", days)])}</span>
                    <button class="btn btn-sm" on:click=move |_| {
                        storage::remove(crate::cache_expiry::WIPED_NOTICE);
                        wiped.set(None);
                    }>{i18n.t("login.cache_wiped_ok")}</button>
                </div>
            })}
            <LoginPage />
        }
        .into_any(),
    }
}

/// `data-theme` from the saved choice; without one, CSS follows the system.
fn apply_theme() {
    if let Some(theme) = storage::get("qiao.theme")
        && let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element())
    {
        let _ = el.set_attribute("data-theme", &theme);
    }
}
