//! 意见箱 (feedback): one page under the sidebar's feedback entry, with one tab per way of
//! hearing from staff — suggestions ([`suggestions`]: the anonymous suggestion box) and, beside
//! it, surveys. Each tab is its own module; this file only frames them (the header as a
//! channel's, the tab bar, the open tab) so that the areas stay independent.

pub mod suggestions;
pub mod surveys;

use crate::i18n::expect_i18n;
use leptos::prelude::*;

/// One tab: its stable key (test ids, remembered choice), its label's i18n key, and its body.
struct TabDef {
    key: &'static str,
    label: &'static str,
    body: fn() -> AnyView,
}

fn tabs() -> Vec<TabDef> {
    vec![
        // tabs: add one line per tab
        TabDef {
            key: "suggestions",
            label: "feedback.tab.suggestions",
            body: || view! { <suggestions::SuggestionsTab /> }.into_any(),
        },
        TabDef { key: "surveys", label: "feedback.tab.surveys", body: || view! { <surveys::SurveysTab /> }.into_any() },
    ]
}

#[component]
pub fn FeedbackPage(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    // The tab last looked at, remembered on this device.
    let current = RwSignal::new(crate::storage::get("qiao.feedback.tab").unwrap_or_else(|| "suggestions".into()));
    let current_key = Memo::new(move |_| {
        let c = current.get();
        let all = tabs();
        all.iter().find(|t| t.key == c).map(|t| t.key).unwrap_or(all[0].key)
    });
    view! {
        <header class="chat-header">
            <button class="sidebar-toggle icon-btn" aria-label=move || i18n.t("sidebar.open_menu") data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title">{move || i18n.t("feedback.title")}</h2>
        </header>
        <nav class="admin-tabs" role="tablist" aria-label=move || i18n.t("feedback.title") data-testid="feedback-tabs">
            {tabs().into_iter().map(|t| {
                let key = t.key;
                view! {
                    <button class="admin-tab" role="tab" data-testid=format!("feedback-tab-{key}")
                        aria-selected=move || (current_key.get() == key).to_string()
                        on:click=move |_| {
                            crate::storage::set("qiao.feedback.tab", key);
                            current.set(key.to_string());
                        }
                    >{move || i18n.t(t.label)}</button>
                }
            }).collect_view()}
        </nav>
        <div class="feedback-body" role="tabpanel" data-testid=move || format!("feedback-panel-{}", current_key.get())>
            {move || {
                let key = current_key.get();
                tabs().into_iter().find(|t| t.key == key).map(|t| (t.body)())
            }}
        </div>
    }
}
