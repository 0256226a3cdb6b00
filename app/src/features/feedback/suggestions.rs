//! The suggestion box tab (建议).

use crate::i18n::expect_i18n;
use leptos::prelude::*;

#[component]
pub fn SuggestionsTab() -> impl IntoView {
    let i18n = expect_i18n();
    view! {
        <div class="empty-state">
            <h3>{move || i18n.t("sug.empty_title")}</h3>
        </div>
    }
}
