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
    provide_i18n();
    let session = provide_session();
    apply_theme();

    // The cached user opens the app at once (offline too); the server confirms in the background.
    leptos::task::spawn_local(async move {
        match api::get::<Me>("/api/me").await {
            Ok(me) => {
                storage::set_json("qiao.me", &me);
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
        None => view! { <LoginPage /> }.into_any(),
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
