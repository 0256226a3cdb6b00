//! Offline-cache expiry (离线缓存有效期): a super admin may set how many days a device may go
//! without reaching the relay before the app wipes its local copy (a lost laptop stops holding
//! the company's conversations). The app remembers the policy and the time of its last contact
//! with the relay in local storage; at start, and every few minutes while it runs, it compares.
//! Past the limit it deletes every document and setting it holds (as logging out does) and shows
//! the login page with a sentence saying why.
//!
//! The clock is the device's own: a device that is offline cannot ask anyone else. Moving the
//! clock back only delays the wipe; the relay still refuses an expired session.

use crate::storage;
use leptos::prelude::*;

/// The days of the policy that wiped this device, while the notice is shown (in context).
#[derive(Clone, Copy)]
pub struct Wiped(pub RwSignal<Option<String>>);

const LAST_CONTACT: &str = "qiao.last_contact";
const POLICY: &str = "qiao.cache_expiry_days";
/// Survives the wipe (which removes every `qiao.` key): the login page reads it once.
pub const WIPED_NOTICE: &str = "qiao-wiped-after-days";
const DAY_MS: i64 = 86_400_000;

/// The relay answered: remember when.
pub fn record_contact() {
    storage::set(LAST_CONTACT, &storage::now_ms().to_string());
}

/// The policy as the relay states it (`None`: never wipe).
pub fn remember_policy(days: Option<u32>) {
    match days {
        Some(d) => storage::set(POLICY, &d.to_string()),
        None => storage::remove(POLICY),
    }
}

/// `Some(days)` when this device has gone longer than the policy's days without contact.
pub fn expired(now_ms: i64) -> Option<u32> {
    let days: u32 = storage::get(POLICY)?.parse().ok()?;
    let last: i64 = storage::get(LAST_CONTACT)?.parse().ok()?;
    (days > 0 && now_ms - last > i64::from(days) * DAY_MS).then_some(days)
}

/// Wipe everything local and leave a notice for the login page.
pub async fn wipe(days: u32) {
    crate::sync::repo::Repo::wipe_local().await;
    storage::set(WIPED_NOTICE, &days.to_string());
}

/// Fetch the policy from the relay (logged in, online) and remember it with the contact.
pub async fn refresh_policy() {
    if let Ok(s) = crate::api::get::<qiao_model::api::ClientSettings>("/api/settings/client").await {
        record_contact();
        remember_policy(s.offline_cache_expiry_days);
    }
}

/// While the app runs: note each contact, and check the policy every five minutes (a device
/// left open and offline is wiped too). `on_expired` ends the session.
pub fn watch(status: RwSignal<crate::sync::repo::ConnStatus>, on_expired: impl Fn(u32) + 'static) {
    use wasm_bindgen::JsCast;
    Effect::new(move |_| {
        if status.get() == crate::sync::repo::ConnStatus::Online {
            record_contact();
            leptos::task::spawn_local(refresh_policy());
        }
    });
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        if let Some(days) = expired(storage::now_ms()) {
            on_expired(days);
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(cb.as_ref().unchecked_ref(), 300_000);
    }
    cb.forget();
}
