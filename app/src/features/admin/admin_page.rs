//! The console's frame: a header like a channel's, the tabs the role allows (wrapping on narrow
//! screens), and the open tab.

use super::audit_tab::AuditTab;
use super::directory_tab::DirectoryTab;
use super::import_tab::ImportTab;
use super::modules_tab::ModulesTab;
use super::sessions_tab::SessionsTab;
use super::settings_tab::SettingsTab;
use super::{Tab, expect_nav, my_role, role_label, tabs_for};
use crate::i18n::expect_i18n;
use leptos::prelude::*;

#[component]
pub fn AdminPage(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let nav = expect_nav();
    let role = my_role();
    let tabs = Memo::new(move |_| tabs_for(role.get()));
    // A tab the role no longer has (the role changed while the console was open) shows the first.
    let current = Memo::new(move |_| {
        let t = nav.tab.get();
        tabs.with(|ts| if ts.contains(&t) { t } else { ts[0] })
    });
    let only_devices = Memo::new(move |_| tabs.with(|t| t.len() == 1));

    view! {
        <header class="chat-header admin-header">
            <button
                class="sidebar-toggle icon-btn"
                aria-label=move || i18n.t("sidebar.open_menu")
                data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title" data-testid="admin-title">
                {move || i18n.t(if only_devices.get() { "admin.devices_title" } else { "admin.title" })}
            </h2>
            <span class="chat-subtitle">{move || role_label(i18n, role.get())}</span>
        </header>
        <Show when=move || !only_devices.get()>
            <nav class="admin-tabs" role="tablist" aria-label=move || i18n.t("admin.title") data-testid="admin-tabs">
                <For
                    each=move || tabs.get()
                    key=|t| *t
                    children=move |t| {
                        view! {
                            <button
                                class="admin-tab"
                                role="tab"
                                aria-selected=move || (current.get() == t).to_string()
                                data-testid=format!("admin-tab-{}", t.key())
                                on:click=move |_| nav.tab.set(t)
                            >
                                {move || i18n.t(&format!("admin.tab.{}", t.key()))}
                            </button>
                        }
                    }
                />
            </nav>
        </Show>
        <div class="admin-body" role="tabpanel" data-testid=move || format!("admin-panel-{}", current.get().key())>
            {move || match current.get() {
                Tab::Directory => view! { <DirectoryTab /> }.into_any(),
                Tab::Import => view! { <ImportTab /> }.into_any(),
                Tab::Modules => view! { <ModulesTab /> }.into_any(),
                Tab::Settings => view! { <SettingsTab /> }.into_any(),
                Tab::Audit => view! { <AuditTab /> }.into_any(),
                Tab::Sessions => view! { <SessionsTab /> }.into_any(),
            }}
        </div>
    }
}
