//! Web push on this device: notifications while the app is closed (see the relay's `push`
//! module for who is told what, and `public/sw.js` for how the notification is shown).
//!
//! - Once the person allowed notifications, the app subscribes this browser with the relay's
//!   key and hands the subscription to the relay, at every start: that heals a subscription the
//!   relay dropped, and moves it to whoever is logged in now (a shared device pushes only for
//!   its current session). Browsers without a reachable push service refuse to subscribe; the
//!   app then notifies only while it runs, as before, and says nothing.
//! - A notification points at `/?c=<conversation>`, `/?p=<project>&t=<task>`, `/?folder=<id>` (a
//!   file to approve, or one reviewed) or `/?ticket=<id>` (a new helpdesk ticket). Clicked with the
//!   app closed, it opens the app at that address ([`open_from_url`] reads it once at start);
//!   with the app open, the worker posts `{type: "QIAO_OPEN", url}` to it instead.

use crate::features::admin::{Nav, Page};
use crate::features::chat::shell::Channels;
use crate::features::tasks::Projects;
use leptos::prelude::*;
use qiao_model::api::{PushKey, PushSubscribe};
use qiao_model::ids::{ChannelId, ProjectId};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Where a notification can lead.
#[derive(Clone, Copy)]
struct Places {
    nav: Nav,
    channels: Channels,
    projects: Projects,
    library: Option<crate::features::library::LibraryState>,
    helpdesk: Option<crate::features::helpdesk::Helpdesk>,
}

/// Subscribe this browser (when notifications are allowed) and follow notification clicks.
pub fn start(nav: Nav, channels: Channels, projects: Projects) {
    // Read here, where the contexts are reachable (a click arrives outside any owner).
    let places = Places {
        nav,
        channels,
        projects,
        library: use_context::<crate::features::library::LibraryState>(),
        helpdesk: use_context::<crate::features::helpdesk::Helpdesk>(),
    };
    open_from_url(places);
    listen_for_clicks(places);
    leptos::task::spawn_local(async {
        if let Err(e) = subscribe().await {
            leptos::logging::log!("Qiao: no push on this device ({e})");
        }
    });
}

/// Open what `url` (a path with a query, as the relay writes them) points at.
fn open(url: &str, places: Places) -> bool {
    let Places { nav, channels, projects, library, helpdesk } = places;
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let get = |key: &str| {
        query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
    };
    if let Some(c) = get("c").filter(|c| !c.is_empty()) {
        channels.select(ChannelId(c));
        nav.page.set(Page::Chat);
        return true;
    }
    if let (Some(p), Some(t)) = (get("p"), get("t")) {
        let p = ProjectId(p);
        nav.page.set(Page::Tasks);
        projects.select(Some(p.clone()));
        projects.open_task.set(Some((p, t)));
        return true;
    }
    if let (Some(f), Some(lib)) = (get("folder"), library) {
        lib.select(Some(f));
        nav.page.set(Page::Library);
        return true;
    }
    if let (Some(t), Some(hd)) = (get("ticket"), helpdesk) {
        hd.selected.set(Some(t));
        nav.page.set(Page::Helpdesk);
        return true;
    }
    false
}

/// The app was opened from a notification: go there, and take the query off the address bar so
/// a reload does not go there again.
fn open_from_url(places: Places) {
    let Some(w) = web_sys::window() else { return };
    let Ok(search) = w.location().search() else { return };
    if !search.is_empty() && open(&search, places) {
        if let Ok(h) = w.history() {
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some("/"));
        }
    }
}

fn listen_for_clicks(places: Places) {
    let Some(sw) = service_worker() else { return };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let data = e.data();
        let kind = js_sys::Reflect::get(&data, &"type".into()).ok().and_then(|v| v.as_string());
        let url = js_sys::Reflect::get(&data, &"url".into()).ok().and_then(|v| v.as_string());
        if let (Some("QIAO_OPEN"), Some(url)) = (kind.as_deref(), url) {
            open(&url, places);
        }
    });
    let _ = sw.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    on_message.forget(); // for the life of the page
}

fn service_worker() -> Option<web_sys::ServiceWorkerContainer> {
    let nav = web_sys::window()?.navigator();
    // Missing on plain http (other than localhost) and in some embedded views.
    js_sys::Reflect::has(&nav, &"serviceWorker".into()).ok().filter(|h| *h)?;
    Some(nav.service_worker())
}

fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    // The browser's `atob` reads standard, padded base64 into a "binary string" (one char per byte).
    let mut standard = s.trim_end_matches('=').replace('-', "+").replace('_', "/");
    while standard.len() % 4 != 0 {
        standard.push('=');
    }
    let binary = web_sys::window()?.atob(&standard).ok()?;
    binary.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Subscribe (or find the existing subscription) and tell the relay.
pub async fn subscribe() -> Result<(), String> {
    if crate::features::chat::notify::system_permission() != Some(web_sys::NotificationPermission::Granted) {
        return Err("notifications are not allowed".into());
    }
    let sw = service_worker().ok_or("no service worker")?;
    let ready = JsFuture::from(sw.ready().map_err(|_| "no service worker")?).await.map_err(|_| "no service worker")?;
    let reg: web_sys::ServiceWorkerRegistration = ready.unchecked_into();
    let pm = reg.push_manager().map_err(|_| "no push manager")?;
    let existing = JsFuture::from(pm.get_subscription().map_err(|_| "no push manager")?).await.unwrap_or(JsValue::NULL);
    let sub = if existing.is_null() || existing.is_undefined() {
        let key: PushKey = crate::api::get("/api/push/key").await.map_err(|e| e.message())?;
        let raw = base64url_decode(&key.public_key).ok_or("bad key")?;
        let opts = web_sys::PushSubscriptionOptionsInit::new();
        let _ = js_sys::Reflect::set(&opts, &"userVisibleOnly".into(), &JsValue::TRUE);
        let _ = js_sys::Reflect::set(&opts, &"applicationServerKey".into(), &js_sys::Uint8Array::from(&raw[..]));
        JsFuture::from(pm.subscribe_with_options(&opts).map_err(|_| "subscribe refused")?).await.map_err(|e| {
            format!(
                "subscribe refused: {}",
                js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()).unwrap_or_default()
            )
        })?
    } else {
        existing
    };
    let json = js_sys::JSON::stringify(&sub).ok().and_then(|s| s.as_string()).ok_or("subscription has no JSON")?;
    let body: PushSubscribe = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    crate::api::post_no_content("/api/push/subscriptions", &body).await.map_err(|e| e.message())
}
