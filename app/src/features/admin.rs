//! The admin console (管理后台): the organisation, the HR import, module toggles, settings, the
//! audit log, and everyone's own devices.
//!
//! The shell shows either the chat or this console ([`Page`], in context through [`Nav`]); the
//! sidebar's footer opens it ([`ConsoleButton`]). Which tabs a person sees comes from the
//! permission functions the relay enforces with ([`qiao_model::acl`]): hiding a tab is a
//! courtesy, the relay refuses regardless. An employee's console has one tab, "my devices".
//!
//! Everything here talks to the relay directly (no local copy): offline, each tab says so and
//! offers to try again.

pub mod admin_page;
pub mod audit_tab;
pub mod directory_tab;
pub mod import_tab;
pub mod modules_tab;
pub mod sessions_tab;
pub mod settings_tab;
pub mod sso_settings;

use crate::api::ApiFailure;
use crate::contexts::expect_session;
use crate::i18n::{I18n, expect_i18n};
use leptos::prelude::*;
use qiao_model::acl::{self, Actor, Role};
use wasm_bindgen::JsCast;

/// What the main area of the shell shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Chat,
    Admin,
    Tasks,
    Kb,
    Announcements,
    /// 意见箱: suggestions and surveys ([`crate::features::feedback`]).
    Feedback,
    /// 报修: IT tickets ([`crate::features::helpdesk`]).
    Helpdesk,
    /// 文件: the file library ([`crate::features::library`]).
    Library,
}

/// The console's tabs, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tab {
    Directory,
    Import,
    Modules,
    Settings,
    Audit,
    Sessions,
}

impl Tab {
    /// Used in locale keys (`admin.tab.<key>`) and test ids (`admin-tab-<key>`).
    pub fn key(self) -> &'static str {
        match self {
            Tab::Directory => "directory",
            Tab::Import => "import",
            Tab::Modules => "modules",
            Tab::Settings => "settings",
            Tab::Audit => "audit",
            Tab::Sessions => "sessions",
        }
    }
}

/// The tabs someone with `role` sees. Department admins manage the people of their department
/// (the directory); the import, modules, settings and the audit log are the super admin's.
pub fn tabs_for(role: Role) -> Vec<Tab> {
    // Department does not matter for these rules; per-row rules (who may be deactivated) use the
    // full actor in the directory tab.
    let actor = Actor { role, dept: None };
    let mut tabs = Vec::new();
    if role != Role::Employee {
        tabs.push(Tab::Directory);
    }
    if acl::administer(&actor).is_ok() {
        tabs.push(Tab::Import);
    }
    if acl::system_settings(&actor).is_ok() {
        tabs.extend([Tab::Modules, Tab::Settings]);
    }
    if acl::administer(&actor).is_ok() {
        tabs.push(Tab::Audit);
    }
    tabs.push(Tab::Sessions);
    tabs
}

/// Which page the shell shows and which console tab is open.
#[derive(Clone, Copy)]
pub struct Nav {
    pub page: RwSignal<Page>,
    pub tab: RwSignal<Tab>,
}

impl Nav {
    pub fn open(&self, tab: Tab) {
        self.tab.set(tab);
        self.page.set(Page::Admin);
    }
}

pub fn provide_nav() -> Nav {
    let nav = Nav { page: RwSignal::new(Page::Chat), tab: RwSignal::new(Tab::Sessions) };
    provide_context(nav);
    nav
}

pub fn expect_nav() -> Nav {
    expect_context::<Nav>()
}

/// The logged-in person's role (tracked: `/api/me` may bring a new one).
pub fn my_role() -> Memo<Role> {
    let session = expect_session();
    Memo::new(move |_| session.me.with(|m| m.as_ref().map(|m| m.role).unwrap_or(Role::Employee)))
}

/// The sidebar's way in: "管理后台 Admin" for admins, "我的设备 My devices" for everyone else.
#[component]
pub fn ConsoleButton(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let nav = expect_nav();
    let role = my_role();
    let admin = Memo::new(move |_| tabs_for(role.get()).len() > 1);
    view! {
        <button
            class="sidebar-console"
            class:active=move || nav.page.get() == Page::Admin
            data-testid=move || if admin.get() { "open-admin" } else { "open-devices" }
            on:click=move |_| {
                let tabs = tabs_for(role.get_untracked());
                nav.open(tabs[0]);
                sidebar_open.set(false);
            }
        >
            <span class=move || if admin.get() { "icon icon-admin" } else { "icon icon-devices" } aria-hidden="true"></span>
            <span>{move || i18n.t(if admin.get() { "admin.open_console" } else { "admin.open_devices" })}</span>
        </button>
    }
}

/// A refusal or failure as a sentence for the person at the screen.
pub fn failure_text(i18n: I18n, f: &ApiFailure) -> String {
    match f {
        ApiFailure::Offline => i18n.t("admin.error.offline"),
        ApiFailure::Unauthorized => i18n.t("admin.error.unauthorized"),
        ApiFailure::Refused(e) if e.code == "forbidden" => {
            i18n.tf("admin.error.forbidden", &[("reason", e.message.clone())])
        }
        ApiFailure::Refused(e) => e.message.clone(),
    }
}

/// A failed load, with a way to try again.
#[component]
pub fn LoadError(message: String, retry: Callback<()>) -> impl IntoView {
    let i18n = expect_i18n();
    view! {
        <div class="admin-error" role="alert" data-testid="admin-error">
            <p class="form-error">{message}</p>
            <button class="btn btn-secondary btn-sm" on:click=move |_| retry.run(())>
                <span class="icon icon-refresh" aria-hidden="true"></span>
                {move || i18n.t("admin.retry")}
            </button>
        </div>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    let i18n = expect_i18n();
    view! {
        <div class="admin-loading" role="status">
            <div class="progress progress-indeterminate">
                <div class="progress-bar"></div>
            </div>
            <span class="muted">{move || i18n.t("admin.loading")}</span>
        </div>
    }
}

/// Unix ms as local `YYYY-MM-DD HH:MM:SS`.
pub fn format_time(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

/// One CSV field, quoted when needed and defused against spreadsheet formulas.
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

/// Offer `text` as a file download (a blob URL on a temporary link).
pub fn download_text(filename: &str, mime: &str, text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Ok(a) = doc.create_element("a").map(|e| e.unchecked_into::<web_sys::HtmlAnchorElement>()) {
        a.set_href(&url);
        a.set_download(filename);
        if let Some(body) = doc.body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
    // Revoked later: revoking at once can cancel the download in some browsers.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 30_000);
    }
}

/// Put `text` on the clipboard; `false` when the browser refuses.
pub async fn copy_text(text: &str) -> bool {
    let Some(w) = web_sys::window() else { return false };
    wasm_bindgen_futures::JsFuture::from(w.navigator().clipboard().write_text(text)).await.is_ok()
}

/// The `label` of a role (`admin.role.<role>`).
pub fn role_label(i18n: I18n, role: Role) -> String {
    i18n.t(&format!("admin.role.{}", role.as_str()))
}
